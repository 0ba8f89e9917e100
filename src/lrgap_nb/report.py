"""What every chapter prints around its numbers: provenance of the runs behind them."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd


def provenance_table(results: Iterable) -> pd.DataFrame:
    """One row per distinct (device, versions) that produced the chapter's cached results."""
    rows = [
        {
            "profile": r.config.get("profile", "-"),
            "device": r.provenance["device"],
            "package": r.provenance["package_version"],
            "git commit": r.provenance.get("git_commit") or "-",
            "torch": r.provenance["torch_version"],
            "date": r.provenance["date"][:10],
            "wall time (s)": r.provenance["wall_time_s"],
        }
        for r in results
    ]
    table = pd.DataFrame(rows)
    keys = [c for c in table.columns if c not in ("wall time (s)", "date")]
    grouped = table.groupby(keys, as_index=False).agg({"wall time (s)": "sum", "date": "max"})
    grouped.insert(0, "runs", table.groupby(keys).size().to_numpy())
    return grouped


def show_markdown(text: str) -> None:
    """Display Markdown computed at run time (verdicts), rendered by Jupyter and the book alike."""
    from IPython.display import Markdown, display

    display(Markdown(text))
