"""Every chapter's tables (CSV) and figures (PNG and SVG) go to book/_extra/outputs/<chapter>/.

The book copies that folder to `outputs/` in the HTML, so `downloads(chapter)` can link each file.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import pandas as pd

from .. import paths


def save_table(table: pd.DataFrame, chapter: str, name: str) -> Path:
    path = paths.outputs_dir(chapter) / f"{name}.csv"
    table.to_csv(path, index=False)
    return path


def save_figure(fig, chapter: str, name: str) -> None:
    """Write PNG and SVG; returns nothing so a notebook cell ending with it shows only the figure."""
    folder = paths.outputs_dir(chapter)
    for suffix in ("png", "svg"):
        fig.savefig(folder / f"{name}.{suffix}", dpi=150, bbox_inches="tight")


class Table:
    """A table as the reader sees it: no index, every cell whole ("—" for a missing value), in a
    box that scrolls sideways when the table is wider than the page."""

    def __init__(self, table: pd.DataFrame):
        self.table = table

    def _repr_html_(self) -> str:
        body = self.table.to_html(index=False, na_rep="—", border=0, classes="lrgap-table")
        return f'<div style="overflow-x: auto; max-width: 100%;">{body}</div>'

    def __repr__(self) -> str:
        return self.table.to_string(index=False, na_rep="—")


class ChapterOutputs:
    """Save a chapter's tables and figures for download and show them, in one call each."""

    def __init__(self, chapter: str):
        self.chapter = chapter

    def table(self, table: pd.DataFrame, name: str, show: pd.DataFrame | None = None) -> Table:
        """Write outputs/<chapter>/<name>.csv and return the table to show (`show`, a part or a
        rounding of it, where the page shows less than the download holds)."""
        save_table(table, self.chapter, name)
        return Table(table if show is None else show)

    def glue(self, **values: Any) -> None:
        """Glue each value under its name for the prose to paste ({glue:text}`name`, or
        {glue:text}`name:.1f` for a number), and record it in outputs/<chapter>/glued.csv (the
        prose tests accept a pasted number the build made). The cell calling this is tagged
        remove-input: the page shows the sentence, not the call."""
        from myst_nb import glue as myst_glue

        for key, value in values.items():
            myst_glue(key, value, display=False)
        path = paths.outputs_dir(self.chapter) / "glued.csv"
        rows = pd.DataFrame({"key": list(values), "value": list(values.values())})
        if path.is_file():
            rows = pd.concat([pd.read_csv(path).query("key not in @rows.key"), rows])
        rows.to_csv(path, index=False)

    def figure(self, axes, name: str) -> None:
        """Write the figure holding `axes` (one axes or an array of them) as PNG and SVG, and
        its legibility in outputs/<chapter>/figures.csv (the book's tests read it)."""
        from .. import plotting

        first = axes.flat[0] if hasattr(axes, "flat") else axes
        save_figure(first.figure, self.chapter, name)
        path = paths.outputs_dir(self.chapter) / "figures.csv"
        row = pd.DataFrame([{"figure": name, **plotting.legibility(first.figure)}])
        if path.is_file():
            row = pd.concat([pd.read_csv(path).query("figure != @name"), row])
        row.to_csv(path, index=False)


def outputs(chapter: str) -> ChapterOutputs:
    return ChapterOutputs(chapter)


class Downloads:
    """Links to a chapter's exported files, rendered as HTML in the notebook and the book."""

    def __init__(self, chapter: str):
        self.chapter = chapter
        self.files = sorted(p.name for p in paths.outputs_dir(chapter).iterdir() if p.is_file())

    def _repr_html_(self) -> str:
        links = " · ".join(
            f'<a href="outputs/{html.escape(self.chapter)}/{html.escape(name)}" download>'
            f"{html.escape(name)}</a>"
            for name in self.files
        )
        return f"<p><strong>Download this chapter's tables and figures:</strong> {links}</p>"

    def __repr__(self) -> str:
        return "\n".join(f"outputs/{self.chapter}/{name}" for name in self.files)


def downloads(chapter: str) -> Downloads:
    return Downloads(chapter)
