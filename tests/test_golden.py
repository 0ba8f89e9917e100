"""A small golden result per kind of run, recomputed: changed numbers need a protocol bump.

Each registered chapter's smoke runs are grouped by kind and the first of each kind is computed
afresh, on tiny random datasets in the real file formats (never the user's data), and compared
with tests/golden/<kind>.json. If the numbers changed while the kind's
protocol version did not, committed results would be silently reused with new code: that fails.
After a deliberate change: bump the kind's PROTOCOL, then `pytest tests/test_golden.py --update-golden`.
"""

import json
from pathlib import Path

import numpy as np
import pytest

from lrgap_nb import results
from lrgap_nb.chapters import chapter_config, registry

GOLDEN = Path(__file__).parent / "golden"


def first_smoke_run_per_kind(name):
    runs = {}
    for run in registry()[name].runs(chapter_config(name, "smoke")):
        runs.setdefault(run.kind, run)
    return runs


def assert_close(ours, golden, where="payload"):
    if isinstance(golden, dict):
        assert isinstance(ours, dict) and ours.keys() == golden.keys(), where
        for key in golden:
            assert_close(ours[key], golden[key], f"{where}.{key}")
    elif isinstance(golden, list):
        assert isinstance(ours, list) and len(ours) == len(golden), where
        for i, (a, b) in enumerate(zip(ours, golden, strict=True)):
            assert_close(a, b, f"{where}[{i}]")
    elif isinstance(golden, float) or isinstance(ours, float):
        np.testing.assert_allclose(ours, golden, rtol=1e-5, atol=1e-8, err_msg=where)
    else:
        assert ours == golden, where


@pytest.mark.parametrize("chapter", list(registry()))
def test_golden_results_unchanged_unless_the_protocol_is_bumped(
    chapter, fixture_data_root, isolated_cache, monkeypatch, update_golden
):
    monkeypatch.setenv("LRGAP_DATA", str(fixture_data_root))
    monkeypatch.setenv("LRGAP_DOWNLOAD", "0")
    for kind, run in first_smoke_run_per_kind(chapter).items():
        check_golden(kind, run, update_golden)


def check_golden(kind, run, update_golden):
    payload = json.loads(results._canonical(run.execute().payload))
    path = GOLDEN / f"{kind}.json"
    if update_golden:
        GOLDEN.mkdir(exist_ok=True)
        record = {"protocol": run.protocol, "config": results.config_dict(run.config)}
        path.write_text(json.dumps({**record, "payload": payload}, sort_keys=True) + "\n")
        return
    assert path.is_file(), (
        f"no golden result for {kind}: pytest tests/test_golden.py --update-golden"
    )
    golden = json.loads(path.read_text())
    assert golden["protocol"] == run.protocol, (
        f"{kind}: protocol {run.protocol} but the golden result is from {golden['protocol']}; "
        "regenerate it with --update-golden"
    )
    assert golden["config"] == results.config_dict(run.config), f"{kind}: smoke config changed"
    try:
        assert_close(payload, golden["payload"])
    except AssertionError as err:
        raise AssertionError(
            f"{kind}: the numbers changed but protocol {run.protocol} did not; bump {kind}'s "
            f"PROTOCOL (committed results of the old computation must not be reused): {err}"
        ) from None
