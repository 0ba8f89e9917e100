"""A small Sphinx extension that keeps the built book free of browser errors, offline.

- sphinx-thebe's inline configuration is registered twice under Jupyter Book 1, so every page
  declared `const THEBE_JS_URL` twice (a SyntaxError): identical scripts are dropped here.
- pydata-sphinx-theme logs an error on a fresh browser profile unless a default mode is set.
"""

from __future__ import annotations

from typing import Any


def _drop_duplicate_scripts(app, pagename, templatename, context, doctree) -> None:
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for script in scripts:
        # The two copies differ only in filename None versus "": compare what the page would get.
        filename = getattr(script, "filename", script) or ""
        identity = (str(filename), repr(sorted(getattr(script, "attributes", {}).items())))
        if identity not in seen:
            seen.add(identity)
            unique.append(script)
    context["script_files"] = unique


def _default_theme_mode(app, pagename, templatename, context, doctree) -> None:
    # sphinx-book-theme does not accept pydata's `default_mode` option, but its template reads it.
    if not context.get("default_mode"):
        context["default_mode"] = "light"


def setup(app) -> dict[str, Any]:
    app.connect("html-page-context", _default_theme_mode, priority=900)
    app.connect("html-page-context", _drop_duplicate_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
