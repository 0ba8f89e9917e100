"""What every chapter prints around its numbers: its claims with verdicts, and provenance.

The landing page and the discussion quote no number typed by hand: `write_summary` (called by
`lrgap build` before Sphinx runs) turns the claims the chapters saved into the Markdown those
pages include, naming the profile each chapter was rendered at.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd

from .. import stats
from ..claims import Claim
from .export import Table, save_table

CLAIM_COLUMNS = ["chapter", "claim", "paper", "ours", "scale", "verdict", "why"]
# The landing table leaves each verdict's reason to its chapter.
LANDING_COLUMNS = ["chapter", "claim", "verdict", "ours", "paper", "scale"]

# What a profile is, in words without digits (tests/test_prose.py checks every rendered number).
PROFILE_MEANING = {
    "smoke": "seconds per chapter; it checks that the code runs, and its numbers are evidence "
    "for nothing",
    "cpu": "minutes per chapter on a laptop, with small models and short training",
    "overnight": "hours on a two-core CPU, at the scale where each chapter's mechanism can show",
    "paper-subset": "the papers' own networks and schedules on a GPU, trained on a subset of the "
    "training images in place of the whole set",
    "full": "the papers' own models, data and schedules (on a GPU where they train networks)",
}
SUMMARY = "summary"  # book/_extra/outputs/summary/: what the prose pages include
_INCLUDED = re.compile(r"_extra/outputs/summary/findings_(\w+)\.md")


def save_claims(chapter: str, claims: Sequence[Claim]) -> ClaimsTable:
    """Record the chapter's judged claims (JSON records and a CSV) and return their table.

    claims.json is what `write_summary` reads; claims.csv is the reader's download.
    """
    from .. import paths

    records = [c.record() for c in claims]
    (paths.outputs_dir(chapter) / "claims.json").write_text(json.dumps(records, indent=1))
    table = claims_frame(records)
    save_table(table, chapter, "claims")
    return ClaimsTable(table)


def claims_frame(records: Sequence[dict]) -> pd.DataFrame:
    """One row per claim record: statement, the paper's value and source, ours, verdict, why."""
    rows = [
        {
            "chapter": r["chapter"],
            "claim": r["statement"],
            "paper": f"{r['paper']} ({r['source']})" if r["paper"] else f"({r['source']})",
            "ours": r["ours"],
            "scale": r["scale"],
            "verdict": r["label"],
            "why": r["verdict"]["reason"],
        }
        for r in records
    ]
    return pd.DataFrame(rows, columns=CLAIM_COLUMNS)


class ClaimsTable(Table):
    """A chapter's claims as the reader sees them: a `Table` with the rule stated beside it."""

    def __init__(self, table: pd.DataFrame):
        super().__init__(table.drop(columns="chapter"))

    def _repr_html_(self) -> str:
        rule = re.sub(r"\*([^*]+)\*", r"<em>\1</em>", html.escape(stats.RULE))  # its Markdown
        return f"{super()._repr_html_()}<p><em>Rule:</em> {rule}</p>"


def summary_table() -> pd.DataFrame:
    """Every chapter's claim records, in chapter order (the book's landing table)."""
    from .. import paths
    from ..chapters import registry

    root = paths.outputs_root()
    records = [
        record
        for name in registry()
        if (root / name / "claims.json").is_file()
        for record in json.loads((root / name / "claims.json").read_text())
    ]
    return claims_frame(records)


def write_summary() -> None:
    """Write what the landing page and the discussion include, from the chapters' claims.

    summary/claims.csv is the landing page's table, summary/findings.md its "What we found",
    and summary/findings_<chapter>.md one chapter's claims in sentences, for every chapter
    registered or included by a page (a page never includes a missing file).
    """
    from .. import paths

    claims = summary_table()
    claims = claims[claims["chapter"].map(rendered_profile).notna()]  # stale outputs stay out
    table = claims.merge(chapter_links(), on="chapter", how="left")
    table["chapter"] = table.pop("link")
    save_table(table[LANDING_COLUMNS], SUMMARY, "claims")
    folder = paths.outputs_dir(SUMMARY)
    (folder / "findings.md").write_text(landing_findings(claims))
    (folder / "rule.md").write_text(f"**The verdict rule.** {stats.RULE}\n")
    for name in _chapters_to_describe():
        rows = claims[claims["chapter"] == name]
        (folder / f"findings_{name}.md").write_text(chapter_findings(name, rows))


def _chapters_to_describe() -> list[str]:
    """Registered chapters, then any chapter a prose page includes findings of."""
    from .. import paths
    from ..chapters import registry

    included = {
        m.group(1)
        for page in paths.book_dir().glob("*.md")
        for m in _INCLUDED.finditer(page.read_text())
    }
    return [*registry(), *sorted(included - set(registry()))]


def rendered_profile(name: str) -> str | None:
    """The profile book/<stem>.ipynb was executed at (papermill's parameters), None if not run."""
    from .. import paths
    from ..chapters import registry

    chapter = registry().get(name)
    executed = paths.book_dir() / f"{chapter.notebook}.ipynb" if chapter else None
    if executed is None or not executed.is_file():
        return None
    metadata = json.loads(executed.read_text()).get("metadata", {})
    return metadata.get("papermill", {}).get("parameters", {}).get("profile")


def _page(name: str) -> str:
    """A link to the chapter's page; its title, unlinked, when it has no page in this build."""
    from ..chapters import registry

    chapter = registry().get(name)
    if chapter is None:
        return f"the {name} chapter"
    return f"{{doc}}`/{chapter.notebook}`" if rendered_profile(name) else f"*{chapter.title}*"


def _verdict_counts(verdicts: pd.Series) -> str:
    counts = verdicts.value_counts()
    return ", ".join(f"{n} {label}" for label, n in counts.items())


def _escape(text: Any) -> str:
    """Claims text as literal Markdown (no emphasis, math, links or tables by accident)."""
    return re.sub(r"([\\`*_\[\]$<>|#])", r"\\\1", str(text))


def landing_findings(claims: pd.DataFrame) -> str:
    """The landing page's "What we found": per chapter, its profile and how its claims came out."""
    from ..chapters import registry

    profiles = {name: rendered_profile(name) for name in registry()}
    lines = []
    for name in registry():
        rows = claims[claims["chapter"] == name]
        profile = profiles[name]
        if profile is None or rows.empty:
            lines.append(f"- {_page(name)}: not run in this build, so no claims yet.")
            continue
        lines.append(
            f"- {_page(name)}, rendered at the `{profile}` profile: {len(rows)} claims, "
            f"{_verdict_counts(rows['verdict'])}."
        )
    ran = sorted({p for p in profiles.values() if p}, key=list(PROFILE_MEANING).index)
    meanings = "; ".join(f"`{p}` means {PROFILE_MEANING[p]}" for p in ran)
    intro = (
        "Each chapter is rendered at the largest profile all of whose runs were cached when "
        "this book was built" + (f" ({meanings})." if ran else "; no chapter has run yet.")
    )
    outro = []
    if ran and "full" not in ran:
        outro.append(
            "No chapter ran at the papers' scale (`full`), so a verdict here is about our "
            "scaled-down setting and not yet a verdict on either paper."
        )
    if "smoke" in ran:
        outro.append(
            "A chapter at `smoke` only shows that its code runs: read its verdicts as placeholders."
        )
    return "\n".join([intro, "", *lines, "", *outro]) + "\n"


def chapter_findings(name: str, rows: pd.DataFrame) -> str:
    """One chapter's claims as sentences: ours against the paper's, at which scale, which verdict."""
    profile = rendered_profile(name)
    if profile is None or rows.empty:
        text = f"{_page(name)} has not been run in this build: no claims to report."
        return text[0].upper() + text[1:] + "\n"
    lines = [
        f"At the `{profile}` profile ({PROFILE_MEANING[profile]}), {_page(name)} reports "
        f"{len(rows)} claims: {_verdict_counts(rows['verdict'])}.",
        "",
    ]
    for row in rows.itertuples():
        lines.append(
            f"- {_escape(row.claim)}: ours {_escape(row.ours)}, paper {_escape(row.paper)} "
            f"(scale: {_escape(row.scale)}); **{_escape(row.verdict)}** ({_escape(row.why)})."
        )
    return "\n".join(lines) + "\n"


def chapter_links() -> pd.DataFrame:
    """Each chapter's title as a MyST link to its page (the csv-table cells are parsed as MyST)."""
    from ..chapters import registry

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
