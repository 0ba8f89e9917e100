"""Slider-update latency and page weight of the convex explorer, in headless Chromium.

Every slider move reruns gradient descent and redraws in the browser (explorer.js); this times
that, from the input event to a laid-out page, over random moves, and measures what the
explorer adds to its page. Runs on the built book's convex page, or with --standalone on a page
of its own (no book build). Needs Debian's chromium and chromium-driver.
Usage: python benchmarks/slider_latency.py [book/_build/html | --standalone] [--moves 300]
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "browser"))
import check_book  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("html", nargs="?", type=Path, default=ROOT / "book" / "_build" / "html")
    parser.add_argument("--standalone", action="store_true", help="no book: a page of its own")
    parser.add_argument("--moves", type=int, default=check_book.BENCH_MOVES)
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--chromedriver", default="/usr/bin/chromedriver")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder, tempfile.TemporaryDirectory() as profile:
        if args.standalone:
            html = check_book.standalone_page(Path(folder))
        else:
            html = args.html
            if not (html / "01_convex.html").exists():
                sys.exit(f"no built book at {html}: build it (lrgap build) or use --standalone")
        server = check_book.serve(html)
        driver = check_book.start_browser(args.chromium, args.chromedriver, profile)
        try:
            driver.get(f"http://127.0.0.1:{server.server_port}/01_convex.html")
            explorer = WebDriverWait(driver, 60).until(
                lambda d: d.find_element(By.CSS_SELECTOR, f"{check_book.EXPLORER}[data-result]")
            )
            time.sleep(5)
            numbers = check_book.benchmark_explorer(driver, explorer, args.moves)
        finally:
            driver.quit()
            server.shutdown()
    print(f"{'standalone page' if args.standalone else html / '01_convex.html'}:")
    check_book.report_explorer(numbers)


if __name__ == "__main__":
    main()
