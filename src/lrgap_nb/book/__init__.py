"""The book machinery, apart from the science: pairing notebooks, running them with papermill,
building the HTML, the claims summary the prose pages include, exported tables and figures, and
the Sphinx extension. The science core (data, models, train, stats, results, claims, chapters)
imports nothing from here (tests/test_layers.py)."""
