// Loaded after require.js and before embed-amd.js (see nb_ipywidgets_js in _config.yml).
// embed-amd.js's modules look for their Font Awesome files next to the URL requirejs gives each
// module, by default ./@jupyter-widgets/... (absent); map them all to _static/, where the
// vendored .woff2 files are, from any page of the book (the longest matching prefix wins).
// "anywidget" is the front end of the convex explorer (an AMD module, not bundled in
// embed-amd.js): html-manager asks requirejs for it by that name, so it loads from _static/
// instead of the CDN fallback.
(function () {
  var assets = document.documentElement.dataset.content_root + "_static";
  require.config({
    paths: {
      "@jupyter-widgets": assets,
      "@jupyter-widgets/html-manager/dist": assets,
      anywidget: assets + "/anywidget",
    },
  });
})();
