"""Build the whole book at the smoke profile, Sphinx warnings as errors (what CI publishes).

The build happens in a temporary copy of the repository (the `built_book` fixture), so running
the tests never replaces a book the user built at a larger profile.
"""

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_book_builds_at_smoke_with_warnings_as_errors(built_book):
    assert ROOT not in built_book.parents  # never over the user's book/
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    pages = [toc["root"]] + [entry["file"] for part in toc["parts"] for entry in part["chapters"]]
    for page in pages:
        assert (built_book / f"{page}.html").stat().st_size > 1000, page


PROGRESS = re.compile(r"\d+%\|[^|]*\||\d+/\d+ \[\d+:\d+|it/s\]|s/it\]")


def test_no_page_shows_progress_bar_text(built_book):
    """Progress goes to the terminal running lrgap, never into the rendered page."""
    shown = {
        page.name: match.group(0)
        for page in built_book.glob("*.html")
        if (match := PROGRESS.search(page.read_text()))
    }
    assert not shown, f"progress-bar text in the book: {shown}"


def test_configuration_cells_are_hidden(built_book):
    """The book opens with the question: no parameters cell, no papermill injected cell."""
    for page in built_book.glob("0[0-9]_*.html"):
        text = page.read_text()
        assert "Parameters at profile" in text, page.name  # the rendered parameter table
        assert "injected-parameters" not in text and "lg.configure(" not in text, page.name


def page_text(page: Path) -> tuple[str, list]:
    """The article's visible text outside math and code, and its table cells."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(page.read_text(), "html.parser")
    article = soup.find("article") or soup
    for hidden in article.select(".math, script, style, pre, code, mjx-container"):
        hidden.decompose()
    return article.get_text(" "), article.find_all("td")


def page_faults(page: Path) -> list[str]:
    """What a reader should never see: raw TeX, nbval's markers, a glue role left as text,
    pandas' truncation footers and elided cells, lists or NaN inside table cells."""
    text, cells = page_text(page)
    faults = [f"raw $: ...{text[max(0, i - 30) : i + 30]!r}" for i in _dollars(text)]
    faults += ["an NBVAL marker"] * ("NBVAL_" in text)
    faults += [f"an unpasted glue role: {m!r}" for m in re.findall(r"\{glue:?\w*\}\S*", text)]
    faults += [f"Markdown emphasis as text: {m!r}" for m in re.findall(r"\*\w[^*]{0,40}\w\*", text)]
    faults += re.findall(r"\d+ rows × \d+ columns", text)
    for cell in cells:
        shown = cell.get_text().strip()
        if shown.endswith(("…", "...")):
            faults.append(f"a cut cell: {shown[-40:]!r}")
        if cell.find(["ul", "ol", "li"]):
            faults.append(f"a list in a cell: {shown[:40]!r}")
        if shown in ("NaN", "nan"):
            faults.append("a NaN cell")
    return faults


def _dollars(text: str) -> list[int]:
    return [m.start() for m in re.finditer(r"\$", text)]


def test_no_page_shows_raw_tex_markers_footers_or_cut_cells(built_book):
    faults = {p.name: f for p in sorted(built_book.glob("*.html")) if (f := page_faults(p))}
    assert not faults, faults


def test_the_page_check_finds_each_fault(tmp_path):
    page = tmp_path / "bad.html"
    page.write_text(
        "<article><p>At $d = 200$ and</p><pre># NBVAL_CHECK_OUTPUT</pre><p>7 rows × 26 columns"
        "</p><p>NBVAL_SKIP</p><p>ends at {glue:text}pw_large_clean_last%, *opposite*</p><table><tr><td>reproduced (difference +0.0185,…</td>"
        "<td><ul><li>-</li></ul></td><td>NaN</td><td>ok</td></tr></table>"
        '<span class="math">$x$</span></article>'
    )
    faults = page_faults(page)
    assert len([f for f in faults if f.startswith("raw $")]) == 2  # not the math span's
    assert "an NBVAL marker" in faults and "7 rows × 26 columns" in faults
    assert "an unpasted glue role: '{glue:text}pw_large_clean_last%,'" in faults
    assert "Markdown emphasis as text: '*opposite*'" in faults
    assert any(f.startswith("a cut cell") for f in faults)
    assert any(f.startswith("a list in a cell") for f in faults) and "a NaN cell" in faults
    assert page_faults(_write(tmp_path / "good.html", "<article><p>fine</p></article>")) == []


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_every_figure_reads_at_nine_points_on_the_page(built_book):
    """Each figure's smallest text, shrunk with the figure to the article's width (plotting)."""
    import pandas as pd

    from lrgap_nb import plotting

    tables = sorted((built_book.parents[1] / "_extra" / "outputs").glob("*/figures.csv"))
    shown = pd.concat([pd.read_csv(t).assign(chapter=t.parent.name) for t in tables])
    assert len(shown) >= 10
    small = shown[shown["smallest text on the page (pt)"] < plotting.MIN_FONT_PT]
    assert small.empty, small.to_dict("records")


def test_legibility_sees_a_wide_figure_shrink_its_text():
    import matplotlib.pyplot as plt

    from lrgap_nb import plotting

    fig, ax = plt.subplots(figsize=(2 * plotting.PAGE_WIDTH_IN, 3))
    ax.set_title("title", fontsize=12)
    ax.text(0.5, 0.5, "tiny", fontsize=6)
    found = plotting.legibility(fig)
    assert found["smallest text (pt)"] == 6
    assert found["smallest text on the page (pt)"] == pytest.approx(
        6 * 7 / found["width (in)"], abs=0.01
    )
    assert found["width (in)"] > plotting.PAGE_WIDTH_IN
    plt.close(fig)
