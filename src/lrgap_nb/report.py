"""What every chapter prints around its numbers: its claims with verdicts, and provenance."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

CLAIM_COLUMNS = ["chapter", "claim", "paper", "ours", "scale", "verdict"]


def save_claims(chapter: str, rows: list[dict]) -> pd.DataFrame:
    """Record the chapter's claims (paper's number, ours, scale, verdict) for the landing page."""
    from .export import save_table

    table = pd.DataFrame([{"chapter": chapter, **row} for row in rows], columns=CLAIM_COLUMNS)
    save_table(table, chapter, "claims")
    return table


def summary_table() -> pd.DataFrame:
    """Every chapter's claims.csv, concatenated in chapter order (the book's landing table)."""
    from . import paths
    from .chapters import registry

    root = paths.book_dir() / "_extra" / "outputs"
    tables = [
        pd.read_csv(root / name / "claims.csv")
        for name in registry()
        if (root / name / "claims.csv").is_file()
    ]
    return pd.concat(tables) if tables else pd.DataFrame(columns=CLAIM_COLUMNS)


def write_summary() -> None:
    """Write the landing page's table to book/_extra/outputs/summary/claims.csv."""
    from .export import save_table

    table = summary_table().merge(chapter_links(), on="chapter", how="left")
    table["chapter"] = table.pop("link")
    save_table(table[CLAIM_COLUMNS], "summary", "claims")


def chapter_links() -> pd.DataFrame:
    """Each chapter's title as a MyST link to its page (the csv-table cells are parsed as MyST)."""
    from .chapters import registry

    return pd.DataFrame(
        {
            "chapter": list(registry()),
            "link": [f"[{c.title}]({c.notebook}.ipynb)" for c in registry().values()],
        }
    )


def provenance_table(results: Iterable, profile: str | None = None) -> pd.DataFrame:
    """Who computed the chapter's cached results: one row per (profile, device, versions, kind
    and protocol), with the number of runs, each run's wall time range and the total."""
    rows = [
        {
            "profile": r.config.get("profile", profile or "-"),
            "kind": r.kind,
            "protocol": r.provenance.get("protocol", "-"),
            "device": r.provenance["device"],
            "git commit": r.provenance.get("git_commit") or "-",
            "torch": r.provenance["torch_version"],
            "date": r.provenance["date"][:10],
            "wall time (s)": r.provenance["wall_time_s"],
        }
        for r in results
    ]
    table = pd.DataFrame(rows)
    keys = [c for c in table.columns if c not in ("wall time (s)", "date")]
    grouped = table.groupby(keys, as_index=False).agg(
        runs=("wall time (s)", "size"),
        **{
            "per run, min (s)": ("wall time (s)", "min"),
            "per run, max (s)": ("wall time (s)", "max"),
            "total (s)": ("wall time (s)", "sum"),
        },
        date=("date", "max"),
    )
    total = {c: "" for c in grouped.columns}
    total.update({"profile": "all", "runs": len(table), "total (s)": table["wall time (s)"].sum()})
    return pd.concat([grouped, pd.DataFrame([total])], ignore_index=True).round(1)


def show_markdown(text: str) -> None:
    """Display Markdown computed at run time (verdicts), rendered by Jupyter and the book alike."""
    from IPython.display import Markdown, display

    display(Markdown(text))
