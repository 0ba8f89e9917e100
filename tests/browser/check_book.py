"""Open every page of the built book in headless Chromium, with no kernel and no network.

Fails on JavaScript errors, requests that leave localhost (a CDN), broken images and widgets that
did not render. On the convex chapter it drags each slider of the explorer through several
positions and fails unless the picture and the printed losses change and match the Python
reference (lrgap_nb.chapters.convex.explorer.reference) for the values shown; it checks the Reset
button and the analytic-points toggle, takes screenshots at three large learning rates, and prints
two benchmarks: time per update (median and p95 over random slider moves) and the explorer's page
weight. Screenshots go to --out.
Usage: python tests/browser/check_book.py [book/_build/html] [--out DIR]
"""

from __future__ import annotations

import argparse
import functools
import http.server
import io
import json
import math
import os
import re
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

from PIL import Image, ImageChops
from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from lrgap_nb.chapters.convex import explorer as explorer_maths

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--window-size=1280,1000",
    "--hide-scrollbars",
]
WIDGET_VIEW = 'script[type="application/vnd.jupyter.widget-view+json"]'
# A view counts as rendered once html-manager's subarea holds a widget with content (ipywidgets'
# own views carry .jupyter-widgets; anywidget's is an .lm-Widget holding what its module drew).
UNRENDERED_JS = """
return [...document.querySelectorAll(arguments[0])]
  .filter(s => !s.parentElement.querySelector(
    '.widget-subarea .jupyter-widgets, .widget-subarea .lm-Widget > *'))
  .map(s => 'widget not rendered ' + s.textContent.trim().slice(0, 80));
"""
# Images that failed to decode and figures without a visible picture.
PAGE_PROBLEMS_JS = """
const MIN_FIGURE_SCALE = arguments[0];
const problems = [];
for (const img of document.images) {
  if (img.complete && img.naturalWidth === 0 && img.getAttribute('src')) {
    problems.push('broken image ' + img.getAttribute('src').slice(0, 80));
  }
}
for (const fig of document.querySelectorAll('figure')) {
  const pics = fig.querySelectorAll('img, svg, canvas');
  if (![...pics].some(p => p.getBoundingClientRect().width > 0)) {
    problems.push('empty figure ' + (fig.id || fig.textContent.trim().slice(0, 60)));
  }
}
const root = document.documentElement;
if (root.scrollWidth > root.clientWidth + 1) {
  problems.push('the page scrolls sideways by ' + (root.scrollWidth - root.clientWidth) + ' px');
}
const article = document.querySelector('article');
if (article) {
  const edge = article.getBoundingClientRect().right + 2;
  const inScrollBox = el => {
    for (let a = el.parentElement; a && a !== article; a = a.parentElement) {
      if (['auto', 'scroll'].includes(getComputedStyle(a).overflowX)) return true;
    }
    return ['auto', 'scroll'].includes(getComputedStyle(el).overflowX);
  };
  for (const el of article.querySelectorAll('table, img, pre, .cell_output > *')) {
    if (el.getBoundingClientRect().right > edge && !inScrollBox(el)) {
      problems.push('cut at the right edge: ' + el.tagName.toLowerCase() + ' '
                    + el.textContent.trim().slice(0, 50));
    }
  }
  for (const img of article.querySelectorAll('img')) {
    const shown = img.getBoundingClientRect().width / (img.naturalWidth || 1);
    if (img.naturalWidth > 0 && shown < MIN_FIGURE_SCALE) {
      problems.push('figure shrunk to ' + Math.round(100 * shown) + '% (its text with it): '
                    + img.getAttribute('src').slice(-40));
    }
  }
}
return problems;
"""
# A figure is drawn at most the article's width (plotting.PAGE_WIDTH_IN); shown much smaller
# than drawn, its text falls below plotting.MIN_FONT_PT on screen.
MIN_FIGURE_SCALE = 0.85
EXPLORER = ".lrgap-explorer"
SLIDERS = ".widget-slider, input[type=range]"  # ipywidgets' and the explorer's
EXPLORER_PAGES = {"01_convex"}  # pages that must carry the convex explorer
DRAG_TO = (0.9, 0.1, 0.5, 0.7, 0.3)  # where each slider is dragged in turn, as track fractions
SCREENSHOT_LRS = (0.5, 1.2, 1.45)  # large learning rates of the explorer screenshots
AGREEMENT = 1e-9  # largest allowed |JavaScript - Python| of a shown loss
MAX_EXPLORER_BYTES = 300 * 1024  # the explorer's added page weight
BENCH_MOVES = 300  # random slider moves timed
BENCH_WARMUP = 30  # untimed moves before them
THUMB_PX = 16  # width of Chromium's default range thumb
PRINTED = re.compile(r"(\d+) steps, final train loss ([\d.e+-]+) = [\d.]+ ε, test loss ([\d.e+-]+)")
# Moves random sliders to random values; for each, the time from the input event to a laid-out
# page (the update runs synchronously in the event handler; painting is not included).
BENCH_JS = """
const [explorer, moves] = arguments;
const inputs = [...explorer.querySelectorAll('input[type=range]')];
let seed = 12345;
const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
const times = [], parts = [];
const warmup = WARMUP;  // untimed moves first: the JIT compiles the maths and the drawing
for (let k = 0; k < warmup + moves; k++) {
  const input = inputs[k % inputs.length];
  input.value = +input.min + random() * (+input.max - +input.min);
  const start = performance.now();
  input.dispatchEvent(new Event('input'));
  document.body.offsetHeight;  // forces style and layout
  if (k < warmup) continue;
  times.push(performance.now() - start);
  parts.push({...JSON.parse(explorer.dataset.timing), name: input.name, value: input.value});
}
return [times, parts];
""".replace("WARMUP", str(BENCH_WARMUP))
# What the explorer adds to its page: anywidget's front end and the widget's embedded state.
WEIGHT_JS = """
const bytes = (text) => new TextEncoder().encode(text).length;
const script = document.querySelector('script[type="application/vnd.jupyter.widget-state+json"]');
const state = JSON.parse(script.textContent).state;
const ids = new Set();
let stateBytes = 0, esmBytes = 0;
for (const [id, model] of Object.entries(state)) {
  if (model.model_module !== 'anywidget') continue;
  ids.add(id);
  stateBytes += bytes(JSON.stringify(model));
  esmBytes += bytes(model.state._esm || '');
}
for (const view of document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]')) {
  if (ids.has(JSON.parse(view.textContent).model_id)) stateBytes += bytes(view.textContent);
}
const resources = performance.getEntriesByType('resource');
const size = (suffix) => resources.filter((e) => new URL(e.name).pathname.endsWith(suffix))
  .reduce((total, e) => total + e.encodedBodySize, 0);
const page = performance.getEntriesByType('navigation')[0].encodedBodySize
  + resources.reduce((total, e) => total + e.encodedBodySize, 0);
return {anywidget_bytes: size('/anywidget.js'), state_bytes: stateBytes, esm_bytes: esmBytes,
        explorer_bytes: size('/anywidget.js') + stateBytes, page_bytes: page,
        embed_bytes: size('/embed-amd.js')};
"""


def serve(directory: Path) -> http.server.ThreadingHTTPServer:
    """A quiet static server on a free localhost port, in a daemon thread."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def start_browser(chromium: str, chromedriver: str, profile_dir: str) -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in [*CHROMIUM_FLAGS, f"--user-data-dir={profile_dir}"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    return webdriver.Chrome(options=options, service=Service(executable_path=chromedriver))


def own_favicon_request(message: str) -> bool:
    """Chromium asks for /favicon.ico by itself when a page names no icon: not a page error."""
    return message.split(" ", 1)[0].endswith("/favicon.ico")


def external_requests(driver: webdriver.Chrome) -> list[str]:
    """URLs the page requested outside localhost (drains the performance log)."""
    import json

    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            url = message["params"]["request"]["url"]
            parsed = urlparse(url)
            if parsed.scheme in ("http", "https", "ws", "wss") and parsed.hostname != "127.0.0.1":
                urls.append(url)
    return sorted(set(urls))


def full_screenshot(driver: webdriver.Chrome, path: Path) -> None:
    """The whole page, not only the viewport."""
    import base64

    width, height = driver.execute_script(
        "return [document.documentElement.scrollWidth, document.documentElement.scrollHeight]"
    )
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot",
        {
            "format": "png",
            "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": width, "height": min(height, 16000), "scale": 1},
        },
    )
    path.write_bytes(base64.b64decode(shot["data"]))


def wait_for_widgets(driver: webdriver.Chrome, timeout: float) -> list[str]:
    """Wait until html-manager has rendered every widget output; those it never did."""
    try:
        WebDriverWait(driver, timeout).until(
            lambda d: not d.execute_script(UNRENDERED_JS, WIDGET_VIEW)
        )
    except TimeoutException:
        return driver.execute_script(UNRENDERED_JS, WIDGET_VIEW)
    time.sleep(1.0)  # let the selected leaves' images decode
    return []


def explorer_state(explorer) -> dict:
    """The settings and numbers the explorer shows, at full precision (its data-result)."""
    return json.loads(explorer.get_attribute("data-result"))


def printed_runs(explorer) -> dict[str, str]:
    """The printed line of each schedule (steps and losses, or where it diverged)."""
    return {
        span.get_attribute("data-schedule"): span.text
        for span in explorer.find_elements(By.CSS_SELECTOR, ".summary .run")
    }


def rounded(state: dict) -> str:
    """The shown numbers to 10 significant digits: the same samples in another order sum
    differently in the last bits, and draw the same picture."""
    runs = {
        name: {k: float(f"{v:.10g}") if isinstance(v, float) else v for k, v in run.items()}
        for name, run in state["runs"].items()
    }
    return json.dumps([state["counts"], runs], sort_keys=True)


def picture(explorer) -> Image.Image:
    svg = explorer.find_element(By.TAG_NAME, "svg")
    return Image.open(io.BytesIO(svg.screenshot_as_png)).convert("RGB")


def same_picture(a: Image.Image, b: Image.Image) -> bool:
    return a.size == b.size and ImageChops.difference(a, b).getbbox() is None


def disagreements(state: dict, printed: dict[str, str]) -> tuple[list[str], float]:
    """Where the shown numbers differ from the Python reference for the shown settings."""
    settings = state["settings"]
    ref = explorer_maths.reference(settings)
    problems, worst = [], 0.0
    if state["counts"] != ref["counts"]:
        problems.append(f"samples {state['counts']} != Python's {ref['counts']}")
    for name in explorer_maths.SCHEDULES:
        mine, shown, text = ref["runs"][name], state["runs"][name], printed.get(name, "")
        if (shown["steps"], shown["diverged_at"]) != (mine["steps"], mine["diverged_at"]):
            problems.append(f"{name}: steps {shown['steps']}/{shown['diverged_at']} != Python's")
        for loss in ("train", "test"):
            if (shown[loss] is None) != (mine[loss] is None):
                problems.append(f"{name}: {loss} loss {shown[loss]} != Python's {mine[loss]}")
            elif mine[loss] is not None:
                worst = max(worst, abs(shown[loss] - mine[loss]))
                if abs(shown[loss] - mine[loss]) > AGREEMENT:
                    problems.append(f"{name}: {loss} loss {shown[loss]} != Python's {mine[loss]}")
        if mine["diverged_at"] is not None:
            if f"diverged at step {mine['diverged_at']}" not in text:
                problems.append(f"{name}: printed {text!r}, Python diverges")
            continue
        match = PRINTED.search(text)
        if not match:
            problems.append(f"{name}: printed {text!r}, no steps and losses")
            continue
        steps, train, test = int(match[1]), float(match[2]), float(match[3])
        close = all(
            abs(p - v) <= 5e-4 * abs(v) for p, v in ((train, mine["train"]), (test, mine["test"]))
        )
        if steps != mine["steps"] or not close:
            problems.append(
                f"{name}: printed {text!r}, Python: {mine['steps']} steps, "
                f"train {mine['train']:.4g}, test {mine['test']:.4g}"
            )
    return [f"{settings}: {p}" for p in problems], worst


def thumb_offset(slider, value: float) -> int:
    """x offset from the slider's centre to its thumb at `value` (for a pointer drag)."""
    low, high = (float(slider.get_attribute(a)) for a in ("min", "max"))
    usable = slider.size["width"] - THUMB_PX
    return round(((value - low) / (high - low) - 0.5) * usable)


def drag(driver, slider, fraction: float) -> None:
    """Press the thumb where it is and drag it, in a few pointer moves, to `fraction` of the track."""
    start = thumb_offset(slider, float(slider.get_attribute("value")))
    low, high = (float(slider.get_attribute(a)) for a in ("min", "max"))
    end = thumb_offset(slider, low + fraction * (high - low))
    chain = ActionChains(driver, duration=10).move_to_element_with_offset(slider, start, 0)
    chain.click_and_hold()
    moves = 4
    done = 0
    for k in range(1, moves + 1):
        step = round((end - start) * k / moves) - done
        chain.move_by_offset(step, 0)
        done += step
    chain.release().perform()


def set_value(driver, explorer, name: str, value: float) -> None:
    """Put a slider at an exact value and fire its input event (as the keyboard does)."""
    driver.execute_script(
        "const input = arguments[0].querySelector(`input[name=${arguments[1]}]`);"
        "input.value = arguments[2]; input.dispatchEvent(new Event('input'));",
        explorer,
        name,
        value,
    )


def check_explorer(driver, explorer, name: str, out: Path) -> tuple[list[str], dict]:
    """Drag every slider, check picture and numbers against Python; reset, toggle, screenshots."""
    failures, numbers = [], {"agreement": 0.0, "positions": 0}

    def agree(where: str) -> None:
        problems, worst = disagreements(explorer_state(explorer), printed_runs(explorer))
        failures.extend(f"{name}: {where}: {p}" for p in problems)
        numbers["agreement"] = max(numbers["agreement"], worst)
        numbers["positions"] += 1

    driver.execute_script("arguments[0].scrollIntoView({block: 'start'})", explorer)
    initial = explorer_state(explorer)
    agree("initial setting")
    explorer.screenshot(str(out / f"{name}.explorer-initial.png"))
    reset = explorer.find_element(By.CSS_SELECTOR, "button.reset")
    for slider in explorer.find_elements(By.CSS_SELECTOR, "input[type=range]"):
        reset.click()  # each slider is dragged from the chapter's setting
        setting = slider.get_attribute("name")
        before, seen, changed = explorer_state(explorer), [], 0
        shown = picture(explorer)
        for fraction in DRAG_TO:
            drag(driver, slider, fraction)
            state = explorer_state(explorer)
            now = picture(explorer)
            seen.append(state["settings"][setting])
            if state["settings"][setting] == before["settings"][setting]:
                failures.append(
                    f"{name}: dragging {setting} to {fraction:.0%} left it at {seen[-1]}"
                )
            if rounded(state) != rounded(before):
                if same_picture(now, shown):
                    failures.append(
                        f"{name}: {setting} = {seen[-1]}: numbers changed, picture did not"
                    )
                changed += 1
            agree(f"{setting} = {seen[-1]}")
            before, shown = state, now
        if not changed:
            failures.append(f"{name}: dragging {setting} through {seen} never changed the picture")
        print(
            f"  {setting}: dragged through {', '.join(f'{v:.4g}' for v in seen)}; "
            f"picture changed {changed} of {len(seen)} times"
        )
    reset.click()
    if explorer_state(explorer)["settings"] != initial["settings"]:
        failures.append(f"{name}: Reset did not restore {initial['settings']}")
    toggle = explorer.find_element(By.CSS_SELECTOR, "input.show-analytic")
    toggle.click()
    text = explorer.find_element(By.CSS_SELECTOR, ".summary").text
    markers = driver.execute_script(
        "return [...arguments[0].querySelectorAll('path.analytic')]"
        ".filter(p => p.getAttribute('display') !== 'none').length",
        explorer,
    )
    if initial["counts"] == [2, 1] and not ("0.75 ε" in text and "1.50 ε" in text and markers):
        failures.append(f"{name}: analytic points not shown at 0.75 ε and 1.50 ε: {text!r}")
    toggle.click()
    for lr in SCREENSHOT_LRS:
        set_value(driver, explorer, "lr_large", lr)
        agree(f"lr_large = {lr}")
        explorer.screenshot(str(out / f"{name}.explorer-lr{lr}.png"))
    reset.click()
    numbers |= benchmark_explorer(driver, explorer)
    return failures, numbers


def benchmark_explorer(driver, explorer, moves: int = BENCH_MOVES) -> dict:
    """Time per update (input event to laid-out page) over random moves, and the page weight."""
    cpu_before = browser_cpu_seconds(driver)
    times, parts = driver.execute_script(BENCH_JS, explorer, moves)
    cpu_after = browser_cpu_seconds(driver)
    own = [p["compute"] + p["draw"] for p in parts]
    cpu_ms = None
    if cpu_before is not None and cpu_after is not None:
        cpu_ms = 1e3 * (cpu_after - cpu_before) / (moves + BENCH_WARMUP)
    return {
        "moves": len(times),
        "median_ms": statistics.median(times),
        "p95_ms": percentile(times, 95),
        "max_ms": max(times),
        "own_median_ms": statistics.median(own),
        "own_p95_ms": percentile(own, 95),
        "cpu_ms": cpu_ms,
        "load": os.getloadavg()[0],
        "cpus": os.cpu_count(),
        **driver.execute_script(WEIGHT_JS),
    }


def browser_cpu_seconds(driver) -> float | None:
    """CPU seconds used so far by the browser and its children (None without psutil).

    Unlike wall time, this does not grow when other processes share the cores.
    """
    try:
        import psutil
    except ImportError:
        return None
    root = psutil.Process(driver.service.process.pid)
    total = 0.0
    for process in [root, *root.children(recursive=True)]:
        try:
            times = process.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
    return total


def percentile(values: list[float], q: float) -> float:
    """The smallest value with at least q% of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def report_explorer(numbers: dict) -> list[str]:
    """Print the benchmark numbers; the page weight has a hard limit, the timing only a goal."""
    kb = 1024
    lines = [
        f"update time over {numbers['moves']} slider moves: median {numbers['median_ms']:.2f} ms, "
        f"p95 {numbers['p95_ms']:.2f} ms, max {numbers['max_ms']:.2f} ms (goal: under one frame, "
        f"16 ms), wall time, at load average {numbers['load']:.1f} on {numbers['cpus']} CPUs",
        f"  of which GD + drawing: median {numbers['own_median_ms']:.2f} ms, "
        f"p95 {numbers['own_p95_ms']:.2f} ms",
        f"explorer page weight: {numbers['explorer_bytes'] / kb:.1f} KB = anywidget.js "
        f"{numbers['anywidget_bytes'] / kb:.1f} KB + widget state {numbers['state_bytes'] / kb:.1f} "
        f"KB (its ES module {numbers['esm_bytes'] / kb:.1f} KB) (goal: under 300 KB)",
        f"  whole page {numbers['page_bytes'] / kb:.0f} KB, of which embed-amd.js "
        f"{numbers['embed_bytes'] / kb:.0f} KB (html-manager, on every widget page)",
    ]
    if numbers.get("cpu_ms") is not None:
        lines.insert(
            2,
            f"  browser CPU time per update (all its processes; does not grow with the load): "
            f"{numbers['cpu_ms']:.2f} ms",
        )
    if numbers.get("positions"):
        lines.append(
            f"JS vs Python at {numbers['positions']} positions: max abs difference "
            f"{numbers['agreement']:.3g}"
        )
    print("\n".join(f"  {line}" for line in lines))
    if numbers["explorer_bytes"] > MAX_EXPLORER_BYTES:
        return [f"explorer adds {numbers['explorer_bytes']} bytes (limit {MAX_EXPLORER_BYTES})"]
    return []


def check_explorers(driver, page: Path, name: str, out: Path, timeout: float) -> list[str]:
    """Every explorer on the page (the convex chapter must have one), checked and benchmarked."""
    if page.stem in EXPLORER_PAGES:
        try:
            WebDriverWait(driver, timeout).until(
                lambda d: d.find_elements(By.CSS_SELECTOR, f"{EXPLORER}[data-result]")
            )
        except TimeoutException:
            return [f"{name}: no convex explorer rendered"]
    failures = []
    for explorer in driver.find_elements(By.CSS_SELECTOR, EXPLORER):
        found, numbers = check_explorer(driver, explorer, name, out)
        failures += found + report_explorer(numbers)
    return failures


def check_book(html_dir: Path, out: Path, chromium: str, chromedriver: str, timeout: float):
    """Every page's failures, as readable lines; an empty list means the book passed."""
    out.mkdir(parents=True, exist_ok=True)
    pages = sorted(
        p.relative_to(html_dir)
        for p in html_dir.rglob("*.html")
        if not p.relative_to(html_dir).parts[0].startswith("_")
    )
    server = serve(html_dir)
    failures: list[str] = []
    with tempfile.TemporaryDirectory() as profile_dir:
        driver = start_browser(chromium, chromedriver, profile_dir)
        try:
            for page in pages:
                name = str(page.with_suffix("")).replace("/", "__")
                start = time.perf_counter()
                driver.get(f"http://127.0.0.1:{server.server_port}/{page.as_posix()}")
                WebDriverWait(driver, timeout).until(
                    lambda d: d.execute_script("return document.readyState") == "complete"
                )
                problems = wait_for_widgets(driver, timeout)
                problems += driver.execute_script(PAGE_PROBLEMS_JS, MIN_FIGURE_SCALE)
                page_failures = [f"{name}: {p}" for p in problems]
                full_screenshot(driver, out / f"{name}.png")
                page_failures += check_explorers(driver, page, name, out, timeout)
                page_failures += [
                    f"{name}: console {e['message'][:300]}"
                    for e in driver.get_log("browser")
                    if e["level"] == "SEVERE" and not own_favicon_request(e["message"])
                ]
                page_failures += [
                    f"{name}: request left localhost: {u}" for u in external_requests(driver)
                ]
                sliders = len(driver.find_elements(By.CSS_SELECTOR, SLIDERS))
                print(
                    f"{'FAIL' if page_failures else 'ok  '} {page}  "
                    f"({time.perf_counter() - start:.1f} s, {sliders} sliders)"
                )
                failures += page_failures
        finally:
            driver.quit()
            server.shutdown()
    return failures


def standalone_page(folder: Path) -> Path:
    """A kernel-free page with only the convex explorer, at the chapter's setting, loading the
    book's vendored widget JavaScript as the book does: the explorer's check without a book build.
    """
    import ipywidgets.embed

    import lrgap_nb as lg

    static = folder / "_static"
    static.mkdir(parents=True, exist_ok=True)
    for file in (ROOT / "book" / "_widgets_js").iterdir():
        if file.suffix in (".js", ".woff2"):
            shutil.copy(file, static / file.name)
    widget = explorer_maths.explorer(lg.chapter_config("convex", profile="smoke"))
    data = ipywidgets.embed.embed_data(views=[widget], drop_defaults=False)
    view = json.dumps(data["view_specs"][0])
    (folder / "01_convex.html").write_text(
        '<!doctype html><html data-content_root="./"><head><meta charset="utf-8">'
        '<title>convex explorer</title><link rel="icon" href="data:,">'
        '<script src="_static/require.js"></script>'
        '<script src="_static/html-manager-paths.js"></script>'
        '<script src="_static/embed-amd.js" data-jupyter-widgets-cdn="data:,"></script>'
        '<script type="application/vnd.jupyter.widget-state+json">'
        f"{json.dumps(data['manager_state'])}</script></head><body>"
        '<div class="cell_output">'
        f'<script type="application/vnd.jupyter.widget-view+json">{view}</script>'
        "</div></body></html>"
    )
    (folder / "index.html").write_text(
        '<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,">'
        '<title>index</title></head><body><a href="01_convex.html">explorer</a></body></html>'
    )
    return folder


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("html", nargs="?", type=Path, default=ROOT / "book" / "_build" / "html")
    parser.add_argument("--out", type=Path, default=Path("screenshots"), help="screenshot folder")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--chromedriver", default="/usr/bin/chromedriver")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per wait")
    parser.add_argument(
        "--standalone",
        action="store_true",
        help="check the explorer on a page of its own instead of the built book",
    )
    args = parser.parse_args(argv)
    if args.standalone:
        with tempfile.TemporaryDirectory() as folder:
            failures = check_book(
                standalone_page(Path(folder)),
                args.out,
                args.chromium,
                args.chromedriver,
                args.timeout,
            )
    elif not (args.html / "index.html").exists():
        print(f"no built book at {args.html}: build it first (lrgap build)")
        return 2
    else:
        failures = check_book(
            args.html.resolve(), args.out, args.chromium, args.chromedriver, args.timeout
        )
    print(f"\n{len(failures)} problem(s); screenshots in {args.out}")
    for failure in failures:
        print(f"  {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
