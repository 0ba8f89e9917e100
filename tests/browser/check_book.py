"""Open every page of the built book in headless Chromium, with no kernel and no network.

Fails on JavaScript errors, requests that leave localhost (a CDN), broken images, widgets that
did not render, and on slider explorers whose picture does not change when a slider moves.
Screenshots go to --out. Usage: python tests/browser/check_book.py [book/_build/html] [--out DIR]
"""

from __future__ import annotations

import argparse
import functools
import http.server
import io
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
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

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
UNRENDERED_JS = """
return [...document.querySelectorAll(arguments[0])]
  .filter(s => !s.parentElement.querySelector('.jupyter-widgets'))
  .map(s => 'widget not rendered ' + s.textContent.trim().slice(0, 80));
"""
# Images that failed to decode and figures without a visible picture.
PAGE_PROBLEMS_JS = """
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
return problems;
"""
VISIBLE_LEAF_JS = """
const imgs = [...arguments[0].querySelectorAll('img')].filter(i => i.offsetParent !== null);
return imgs.length ? imgs[imgs.length - 1] : null;
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


def picture(element) -> Image.Image:
    return Image.open(io.BytesIO(element.screenshot_as_png)).convert("RGB")


def leaf_replaced(driver: webdriver.Chrome, explorer, src: str) -> bool:
    """Whether the explorer now shows a different picture element than the one at `src`."""
    leaf = driver.execute_script(VISIBLE_LEAF_JS, explorer)
    return leaf is not None and leaf.get_attribute("src") != src


def move_sliders(driver: webdriver.Chrome, name: str, out: Path, timeout: float) -> list[str]:
    """Move each slider of each explorer one step; its visible picture must change."""
    failures = []
    handles = driver.find_elements(By.CSS_SELECTOR, ".widget-slider .noUi-handle")
    for number, handle in enumerate(handles):
        explorer = handle.find_element(By.XPATH, "./ancestor::div[contains(@class,'cell_output')]")
        driver.execute_script("arguments[0].scrollIntoView({block: 'start'})", explorer)
        leaf = driver.execute_script(VISIBLE_LEAF_JS, explorer)
        if leaf is None:
            failures.append(f"{name}: slider {number} has no visible picture")
            continue
        before, src_before = picture(leaf), leaf.get_attribute("src")
        explorer.screenshot(str(out / f"{name}.slider{number}-before.png"))
        now, top = (int(float(handle.get_attribute(a))) for a in ("aria-valuenow", "aria-valuemax"))
        handle.click()
        handle.send_keys(Keys.ARROW_RIGHT if now < top else Keys.ARROW_LEFT)
        try:
            WebDriverWait(driver, timeout).until(
                functools.partial(leaf_replaced, explorer=explorer, src=src_before)
            )
        except TimeoutException:
            failures.append(f"{name}: slider {number} moved but the picture's src did not change")
            continue
        time.sleep(0.3)
        after_leaf = driver.execute_script(VISIBLE_LEAF_JS, explorer)
        after = picture(after_leaf)
        explorer.screenshot(str(out / f"{name}.slider{number}-after.png"))
        changed = before.size != after.size or ImageChops.difference(before, after).getbbox()
        print(
            f"  slider {number}: value {now} -> {handle.get_attribute('aria-valuenow')}, "
            f"picture {'changed' if changed else 'UNCHANGED'}"
        )
        if not changed:
            failures.append(f"{name}: slider {number} moved but the picture stayed the same")
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
                problems += driver.execute_script(PAGE_PROBLEMS_JS)
                page_failures = [f"{name}: {p}" for p in problems]
                full_screenshot(driver, out / f"{name}.png")
                page_failures += move_sliders(driver, name, out, timeout)
                page_failures += [
                    f"{name}: console {e['message'][:300]}"
                    for e in driver.get_log("browser")
                    if e["level"] == "SEVERE" and not own_favicon_request(e["message"])
                ]
                page_failures += [
                    f"{name}: request left localhost: {u}" for u in external_requests(driver)
                ]
                sliders = len(driver.find_elements(By.CSS_SELECTOR, ".widget-slider"))
                print(
                    f"{'FAIL' if page_failures else 'ok  '} {page}  "
                    f"({time.perf_counter() - start:.1f} s, {sliders} sliders)"
                )
                failures += page_failures
        finally:
            driver.quit()
            server.shutdown()
    return failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("html", nargs="?", type=Path, default=ROOT / "book" / "_build" / "html")
    parser.add_argument("--out", type=Path, default=Path("screenshots"), help="screenshot folder")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--chromedriver", default="/usr/bin/chromedriver")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per wait")
    args = parser.parse_args(argv)
    if not (args.html / "index.html").exists():
        print(f"no built book at {args.html}: build it first (lrgap build)")
        return 2
    failures = check_book(
        args.html.resolve(), args.out, args.chromium, args.chromedriver, args.timeout
    )
    print(f"\n{len(failures)} problem(s); screenshots in {args.out}")
    for failure in failures:
        print(f"  {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
