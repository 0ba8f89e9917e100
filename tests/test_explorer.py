"""The convex explorer: its JavaScript maths against the Python reference, the widget, a kernel.

The agreement test runs explorer.js in Node and in headless Chromium, each skipped when it is not
installed; CI has Chromium.
"""

import base64
import functools
import http.server
import json
import shutil
import subprocess
import threading
from pathlib import Path

import ipywidgets.embed
import nbformat
import numpy as np
import pytest
import traitlets

import lrgap_nb as lg
from lrgap_nb.chapters.convex import explorer as ex
from lrgap_nb.chapters.convex import maths
from lrgap_nb.chapters.convex.params import BETA_STAR

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
TOLERANCE = 1e-9  # paths and losses, absolute

# Runs in Node and in the browser: compute() for each setting, paths as base64 float64.
RUN_ALL_JS = """
function b64(values) {
  const bytes = new Uint8Array(new Float64Array(values).buffer);
  let s = "";
  for (let i = 0; i < bytes.length; i += 8192) {
    s += String.fromCharCode(...bytes.subarray(i, i + 8192));
  }
  return btoa(s);
}
function runAll(ex, settings) {
  const first = ex.mulberry32(0);
  return JSON.stringify({
    mulberry32_0: [first(), first(), first()],
    results: settings.map((s) => {
      const r = ex.compute(s);
      const runs = {};
      for (const [name, run] of Object.entries(r.runs)) {
        runs[name] = {steps: run.steps, diverged_at: run.divergedAt,
          train: Number.isFinite(run.train) ? run.train : null,
          test: Number.isFinite(run.test) ? run.test : null,
          xs: b64(run.xs), ys: b64(run.ys)};
      }
      return {coords: r.coords, runs};
    }),
  });
}
"""


def random_settings(count: int, seed: int = 0) -> list[dict]:
    """Settings spread over every slider's range (epsilon log-uniform), and the extreme corners,
    each with and without the exact stop at epsilon."""
    rng = np.random.default_rng(seed)
    r = ex.RANGES
    settings = [
        {
            "lr_large": float(rng.uniform(r["lr_large"]["min"], r["lr_large"]["max"])),
            "lr_small": float(rng.uniform(r["lr_small"]["min"], r["lr_small"]["max"])),
            "anneal_step": int(rng.integers(0, r["anneal_step"]["max"] + 1)),
            "epsilon": float(10 ** rng.uniform(-4, -1)),
            "n_samples": int(rng.integers(r["n_samples"]["min"], r["n_samples"]["max"] + 1)),
            "seed": int(rng.integers(0, r["seed"]["max"] + 1)),
        }
        for _ in range(count - 7)
    ]
    low = {name: v["min"] for name, v in r.items()}
    high = {name: v["max"] for name, v in r.items()}
    # Seed 0 puts all 3 samples at e1: the large LR diverges above 1 when it lasts long enough.
    edge = [{**high, "lr_large": lr, "n_samples": 3, "seed": 0} for lr in (1.1, 1.3, 1.6)]
    every = [*settings, low, high, {**low, "n_samples": 30}, {**high, "lr_small": 0.005}, *edge]
    # each setting with both stops: the first step below epsilon, and exactly epsilon
    return [{**s, "exact_stop": exact} for exact in (False, True) for s in every]


def run_in_node(settings: list[dict], tmp_path: Path) -> dict:
    shutil.copy(ex.ESM, tmp_path / "explorer.mjs")  # .mjs: Node reads it as an ES module
    (tmp_path / "settings.json").write_text(json.dumps(settings))
    (tmp_path / "run.mjs").write_text(
        'import * as ex from "./explorer.mjs";\nimport { readFileSync } from "node:fs";\n'
        + RUN_ALL_JS
        + 'process.stdout.write(runAll(ex, JSON.parse(readFileSync("settings.json", "utf8"))));\n'
    )
    out = subprocess.run(
        ["node", "run.mjs"], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)


class StaticServer:
    """A quiet localhost server for one folder, in a daemon thread."""

    def __init__(self, directory: Path) -> None:
        class Quiet(http.server.SimpleHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

        handler = functools.partial(Quiet, directory=str(directory))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.port = self.httpd.server_port

    def start(self) -> None:
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.httpd.shutdown()


def run_in_chromium(settings: list[dict], tmp_path: Path) -> dict:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={tmp_path}"):
        options.add_argument(flag)
    site = tmp_path / "site"
    site.mkdir()
    shutil.copy(ex.ESM, site / "explorer.js")
    (site / "index.html").write_text("<!doctype html><title>explorer maths</title>")
    server = StaticServer(site)
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    try:
        driver.set_script_timeout(120)
        server.start()
        driver.get(f"http://127.0.0.1:{server.port}/index.html")
        out = driver.execute_async_script(
            RUN_ALL_JS
            + """
            const done = arguments[arguments.length - 1];
            import("./explorer.js").then((ex) => done(runAll(ex, arguments[0])))
              .catch((e) => done(JSON.stringify({error: String(e).slice(0, 300)})));
            """,
            settings,
        )
    finally:
        driver.quit()
        server.stop()
    result = json.loads(out)
    assert "error" not in result, result
    return result


@pytest.fixture(scope="module")
def settings():
    return random_settings(200)


@pytest.fixture(scope="module", params=["node", "chromium"])
def js(request, settings, tmp_path_factory):
    """explorer.js's results for `settings`, in each engine that is installed."""
    tmp_path = tmp_path_factory.mktemp(f"explorer_{request.param}")
    if request.param == "node":
        if not shutil.which("node"):
            pytest.skip("no node on PATH")
        return run_in_node(settings, tmp_path)
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.skip(
            "no /usr/bin/chromium + chromedriver (apt-get install chromium chromium-driver)"
        )
    return run_in_chromium(settings, tmp_path)


def decode(text: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype=np.float64)


def test_the_prng_is_mulberry32_in_both_languages(js):
    draws = maths.mulberry32(0)
    # Reference values of mulberry32(0), from the original C/JS implementation.
    assert [next(draws) for _ in range(3)] == [1144304738, 1416247, 958946056]
    assert js["mulberry32_0"] == [1144304738, 1416247, 958946056]


def test_javascript_matches_the_python_maths_on_200_settings_and_both_stops(settings, js):
    worst = 0.0
    diverged = stopped = 0
    for s, got in zip(settings, js["results"], strict=True):
        assert got["coords"] == maths.sample_coords(s["n_samples"], s["seed"]), s
        want = ex.reference(s)
        for name in ex.SCHEDULES:
            mine, theirs = want["runs"][name], got["runs"][name]
            assert theirs["steps"] == mine["steps"], (s, name)
            assert theirs["diverged_at"] == mine["diverged_at"], (s, name)
            path = np.stack([decode(theirs["xs"]), decode(theirs["ys"])], axis=-1)
            assert path.shape == mine["path"].shape, (s, name)
            np.testing.assert_allclose(path, mine["path"], rtol=0, atol=TOLERANCE, equal_nan=True)
            finite = np.isfinite(mine["path"])
            worst = max(worst, float(np.max(np.abs(path[finite] - mine["path"][finite]))))
            for loss in ("train", "test"):
                if mine[loss] is None:
                    assert theirs[loss] is None, (s, name, loss)
                else:
                    assert abs(theirs[loss] - mine[loss]) <= TOLERANCE, (s, name, loss)
                    worst = max(worst, abs(theirs[loss] - mine[loss]))
            diverged += mine["diverged_at"] is not None
            stopped += mine["diverged_at"] is None
    print(f"JS vs Python on {len(settings)} settings: max abs difference {worst:.3g}")
    assert diverged >= 4 and stopped > 600  # both outcomes are exercised, with both stops


def test_the_exact_stop_ends_both_paths_at_epsilon_in_javascript(settings, js):
    matched = 0
    for s, got in zip(settings, js["results"], strict=True):
        if not s["exact_stop"]:
            continue
        for name in ex.SCHEDULES:
            run = got["runs"][name]
            if run["train"] is not None and run["steps"] > 0:
                assert run["train"] == pytest.approx(s["epsilon"], rel=1e-9), (s, name)
                matched += 1
    assert matched > 300


def test_samples_are_reproducible_and_one_hot():
    X, y = maths.two_point_samples(30, 7, BETA_STAR)
    assert X.shape == (30, 2) and set(X.sum(axis=1)) == {1.0}
    np.testing.assert_array_equal(y, X @ BETA_STAR)
    np.testing.assert_array_equal(maths.two_point_samples(30, 7, BETA_STAR)[0], X)
    assert maths.sample_coords(3, 2) == [1, 0, 0]  # two samples at e1, one at e2: the report's case


def test_reference_is_gradient_descent_from_the_maths_module():
    s = {"lr_large": 1.4, "lr_small": 0.05, "anneal_step": 4, "epsilon": 0.01}
    s |= {"n_samples": 3, "seed": 2}
    ref = ex.reference(s)
    X, y = maths.two_point_samples(3, 2, BETA_STAR)
    schedules = maths.schedules_for(1.4, 0.05, 4)
    for name, schedule in schedules.items():
        path = maths.gradient_descent(X, y, schedule, 0.01)
        np.testing.assert_array_equal(ref["runs"][name]["path"], path)
        assert ref["runs"][name]["train"] <= 0.01 < float(maths.train_loss(path[-2], X, y))
    # the report's claim, on this draw: large then small stops at the better point
    assert ref["runs"]["large then small"]["test"] < ref["runs"]["small throughout"]["test"]


def test_reference_with_the_exact_stop_is_the_matched_descent():
    s = {"lr_large": 1.4, "lr_small": 0.05, "anneal_step": 4, "epsilon": 0.01}
    s |= {"n_samples": 3, "seed": 2, "exact_stop": True}
    ref = ex.reference(s)["runs"]
    X, y = maths.two_point_samples(3, 2, BETA_STAR)
    want = maths.matched_descent(X, y, 1.4, 0.05, 4, 0.01, keep_path=True).path
    np.testing.assert_array_equal(ref["large then small"]["path"], want)
    for run in ref.values():
        assert run["train"] == pytest.approx(0.01, rel=1e-12)


def test_divergence_is_reported_not_hidden():
    s = {"lr_large": 1.6, "lr_small": 0.05, "anneal_step": 40, "epsilon": 0.01}
    run = ex.reference(s | {"n_samples": 3, "seed": 0})["runs"]  # all 3 samples at e1: 1 - 3.2
    assert run["large then small"]["diverged_at"] is not None
    assert np.isnan(run["large then small"]["path"][-1]).all()
    assert run["large then small"]["test"] is None
    assert run["small throughout"]["diverged_at"] is None


def test_widget_starts_at_the_chapters_setting_and_rejects_values_off_its_sliders():
    cfg = lg.chapter_config("convex", profile="smoke")
    widget = ex.explorer(cfg)
    assert widget.settings() == {
        **{name: getattr(cfg, name) for name in ex.RANGES},
        "exact_stop": False,
    }
    assert widget.defaults == widget.settings()
    assert widget.ranges == ex.RANGES
    assert widget._esm == ex.ESM.read_text()
    with pytest.raises(traitlets.TraitError):
        widget.lr_large = 1.7
    with pytest.raises(traitlets.TraitError):
        widget.n_samples = 2


def test_embedded_state_carries_the_module_and_every_trait():
    widget = ex.ConvexExplorer(lr_large=1.2)
    state = ipywidgets.embed.embed_data(views=[widget], drop_defaults=False)["manager_state"]
    model = state["state"][widget.model_id]
    assert (model["model_module"], model["model_name"]) == ("anywidget", "AnyModel")
    for name in [*ex.RANGES, "_esm", "_anywidget_id", "defaults", "ranges", "show_analytic",
                 "exact_stop"]:  # fmt: skip
        assert name in model["state"], name
    assert "export default { render }" in model["state"]["_esm"]


def test_the_widget_lives_in_a_kernel(tmp_path):
    """Executed in a kernel: traits set from Python sync, the saved state is complete."""
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(
            "import lrgap_nb as lg\n"
            "from lrgap_nb.chapters.convex.explorer import explorer\n"
            'w = explorer(lg.chapter_config("convex", profile="smoke"))\nw'
        ),
        nbformat.v4.new_code_cell(
            "w.lr_large = 1.2\nr = w.reference()['runs']\n"
            "print(w.lr_large, r['large then small']['steps'], r['small throughout']['steps'])"
        ),
    ]
    NotebookClient(nb, timeout=120, kernel_name="python3", store_widget_state=True).execute()
    view = nb.cells[0].outputs[0]["data"]["application/vnd.jupyter.widget-view+json"]
    state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    model = state[view["model_id"]]
    assert model["model_name"] == "AnyModel" and model["state"]["lr_large"] == 1.2
    assert model["state"]["_esm"] == ex.ESM.read_text()
    assert nb.cells[1].outputs[0]["text"].startswith("1.2 ")
