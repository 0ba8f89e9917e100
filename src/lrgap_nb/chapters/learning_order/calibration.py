"""Choosing the regime on seeds kept apart from the reported ones (CALIBRATION_SEEDS).

Three stages, each a list of cached units (resumable), judged by the premises of Li, Wei & Ma's
theorems, never by the outcome the chapter tests (the final error of L-S against S):
  A. P must be sample-hungry: S trained on P alone errs at least HUNGRY_GAP more from the p0·N
     P-only examples than from the (1-q0)·N examples containing P (d, N, gamma0);
  B. S must fit Q before P, and L-S must anneal with a small Q-curvature (||z_q||, ||zeta||, eta_1);
  C. S + noise's pre-activation noise is set to the noise L-S's weights put on Q inputs.
`python -m lrgap_nb.chapters.learning_order.calibration` runs the stages in order (results from
the cache when present) and writes the log `results/calibration/learning_order.csv`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from lrgap_nb import paths, stats
from lrgap_nb.runs import Run

from . import claims as lc
from . import premises, tables
from .learner import Setting
from .params import LearningOrderParams
from .runs import PROTOCOL, NoiseProbe, Unit

CALIBRATION_SEEDS = tuple(range(100, 110))
KIND = "learning_order_calibration"
HERE = "lrgap_nb.chapters.learning_order"
LOG = Path("results") / "calibration" / "learning_order.csv"

PILOT = Path("results") / "calibration" / "learning_order_pilot.json"

# Stage grids (differences from the overnight setting), in order of preference. Stage A's two
# candidates come from a pilot on seeds 100-104 (PILOT; d = 400 cost 7 ms per run and step here).
STAGE_A = [{"d": 200, "n_train": 400, "gamma0": g} for g in (0.02, 0.0)]
STAGE_B = [
    {"zq_norm": zq, "zeta_norm": zeta, "lr_large": lr}
    for zq, zeta, lr in ((9.0, 1.5, 20.0), (9.0, 1.5, 40.0), (6.0, 1.0, 20.0), (12.0, 2.0, 20.0))
]
STAGE_B_STEPS = 3000  # stage B judges what happens early (order, anneal): a shorter cap suffices


# Values in force when the calibration ran, before it set them: they change none of its numbers
# (references and stage B add no pre-activation noise; stage B sets lr_large) but are part of the
# cached units' keys, so the committed log is reproduced from the committed entries.
CALIBRATION_BASE = {"lr_large": 10.0, "pre_noise": 1.0}


def calibration_cfg(**changes) -> LearningOrderParams:
    from lrgap_nb.chapters import chapter_config

    return chapter_config("learning_order", "overnight", **{**CALIBRATION_BASE, **changes})


def summary_payload(unit: Unit) -> dict:
    """A calibration unit: the unit's runs without what no stage judges (kept small to commit)."""
    from .runs import unit_payload

    runs = unit_payload(unit)["runs"]
    for run in runs:
        del run["history"]["train both"]
    return {"runs": runs}


def references(cfg: LearningOrderParams) -> list[Run]:
    s, n = Setting.of(cfg), cfg.n_train
    return [
        Run(
            KIND,
            f"{HERE}.calibration:summary_payload",
            Unit(s, "S", n, CALIBRATION_SEEDS, keep=k),
            PROTOCOL,
        )
        for k in ("P only", "with P")
    ]


def algorithms(cfg: LearningOrderParams) -> list[Run]:
    s, n = Setting.of(cfg), cfg.n_train
    return [
        Run(KIND, f"{HERE}.calibration:summary_payload", Unit(s, a, n, CALIBRATION_SEEDS), PROTOCOL)
        for a in ("L-S", "S")
    ]


def noise(cfg: LearningOrderParams) -> Run:
    probe = NoiseProbe(Setting.of(cfg), cfg.n_train, CALIBRATION_SEEDS, cfg.noise_probe_steps)
    return Run(KIND, f"{HERE}.runs:noise_payload", probe, PROTOCOL)


def judge_references(results) -> dict:
    """Stage A's numbers for one setting: the two reference errors and the premise's verdict."""
    errors = _errors(results)
    wide = errors.pivot(index="seed", columns="algorithm", values="P only")
    test = stats.compare(wide["S on P, P only"], wide["S on P, with P"], lc.HUNGRY_GAP)
    low, high = stats.difference_ci(wide["S on P, P only"], wide["S on P, with P"], paired=True)
    return {
        "error p0·N": wide["S on P, P only"].mean(),
        "error (1-q0)·N": wide["S on P, with P"].mean(),
        "gap CI": f"[{low:.3f}, {high:.3f}]",
        "P sample-hungry": test.label,
    }


def judge_order(results, cfg: LearningOrderParams) -> dict:
    """Stage B's numbers: L-S anneals, S fits Q before P, Q-curvature S/L-S before the anneal."""
    history = tables.history_frame(results)
    order = tables.learning_order(history, ["L-S", "S"])
    errors = _errors(results)
    annealed = (order["L-S anneal step"] >= 0).astype(float)
    cap = cfg.max_steps + cfg.eval_every
    lead = stats.compare(
        np.minimum(order["S: P fit at"], cap),
        np.minimum(order["S: Q fit at"], cap),
        premises.MIN_FIT_LEAD,
        paired=True,
    )
    ratio = stats.compare(
        lc.log_curvature(order["S: Q curvature"]),
        lc.log_curvature(order["L-S: Q curvature"]),
        np.log(lc.MIN_CURVATURE_RATIO),
        paired=True,
    )
    wide = errors.pivot(index="seed", columns="algorithm", values="overall")
    return {
        "L-S annealed": f"{int(annealed.sum())}/{len(order)}",
        "L-S anneal step (median)": float(order["L-S anneal step"].median()),
        "S: Q fit at (median)": float(order["S: Q fit at"].median()),
        "S: P fit at (median)": float(order["S: P fit at"].median()),
        "S fits Q first": lead.label,
        "Q-curvature S / L-S before anneal (geo. mean, floored)": float(
            np.exp(
                np.mean(
                    lc.log_curvature(order["S: Q curvature"])
                    - lc.log_curvature(order["L-S: Q curvature"])
                )
            )
        ),
        "curvature smaller under L-S": ratio.label,
        "error L-S (not used to choose)": wide["L-S"].mean(),
        "error S (not used to choose)": wide["S"].mean(),
        "premises met (of 3)": int(annealed.all())
        + int(lead.label == stats.REPRODUCED)
        + int(ratio.label == stats.REPRODUCED),
    }


def _errors(results) -> pd.DataFrame:
    """Final per-group errors from summary payloads (the mixture is not used here)."""
    cfg = LearningOrderParams(profile="overnight")
    return tables.final_errors(results, cfg)


def run_stages(log: Path | None = None) -> pd.DataFrame:
    """Stages A, B and C in order, each unit from the cache when present; write and return the log."""
    rows = []
    chosen_a = None
    for changes in STAGE_A:
        cfg = calibration_cfg(**changes)
        judged = judge_references([run.execute() for run in references(cfg)])
        rows.append({"stage": "A", **changes, **judged})
        _write(rows, log)
        if chosen_a is None and judged["P sample-hungry"] == stats.REPRODUCED:
            chosen_a = changes
    if chosen_a is None:  # the closest: the largest gap between the two references
        a_rows = pd.DataFrame([r for r in rows if r["stage"] == "A"])
        best = a_rows.assign(gap=a_rows["error p0·N"] - a_rows["error (1-q0)·N"])["gap"].idxmax()
        chosen_a = STAGE_A[int(best)]  # the row's own values (the frame's are numpy scalars)
    chosen_b = None
    for changes in STAGE_B:
        cfg = calibration_cfg(**chosen_a, **changes, max_steps=STAGE_B_STEPS)
        judged = judge_order([run.execute() for run in algorithms(cfg)], cfg)
        rows.append({"stage": "B", **chosen_a, **changes, "max_steps": STAGE_B_STEPS, **judged})
        _write(rows, log)
    # the first setting meeting all three premises, else the closest: the most premises met
    b_rows = [r for r in rows if r["stage"] == "B"]
    best = max(range(len(b_rows)), key=lambda i: (b_rows[i]["premises met (of 3)"], -i))
    chosen_b = STAGE_B[best]
    probe_steps = b_rows[best]["L-S anneal step (median)"]
    if not probe_steps > 0:  # L-S never annealed: probe the whole capped run
        probe_steps = STAGE_B_STEPS
    probe_steps = int(max(50, 50 * np.ceil(probe_steps / 50)))  # L-S's large-rate phase
    cfg = calibration_cfg(**chosen_a, **chosen_b, noise_probe_steps=probe_steps)
    sigma = np.asarray(noise(cfg).execute().payload["sigma"])
    rows.append(
        {
            "stage": "C",
            **chosen_a,
            **chosen_b,
            "noise_probe_steps": probe_steps,
            "effective pre-activation noise on Q inputs": stats.mean_std(sigma, digits=3),
            "sigma (mean)": float(sigma.mean()),
        }
    )
    frame = pd.DataFrame(rows)
    frame["chosen"] = [
        r["stage"] == "C"
        or all(r.get(k) == v for k, v in {**chosen_a, **chosen_b}.items() if k in r)
        for r in rows
    ]
    return _write(frame.to_dict("records"), log)


def _write(rows: list[dict], log: Path | None) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    path = log or paths.project_root() / LOG
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    return frame


def pilot_table() -> pd.DataFrame:
    """The stage-A pilot (seeds 100-104): mean reference errors per setting."""
    path = paths.project_root() / PILOT
    if not path.is_file():
        return pd.DataFrame({"d": []})
    frame = pd.read_json(path)
    for column in [c for c in frame if "per seed" in c]:
        frame[column.replace(" (per seed)", " (mean)")] = frame[column].map(np.mean).round(3)
    return frame.drop(columns=[c for c in frame if "per seed" in c or "stop step" in c])


def chosen_text(log: pd.DataFrame) -> str:
    """What the calibration chose, and whether it met every premise or only came closest."""
    if log.empty or "chosen" not in log:
        return (
            "No calibration log yet: run `python -m lrgap_nb.chapters.learning_order.calibration`."
        )
    a = log[(log["stage"] == "A") & log["chosen"]].iloc[0]
    b = log[(log["stage"] == "B") & log["chosen"]].iloc[0]
    c = log[log["stage"] == "C"].iloc[0]
    met = int(b["premises met (of 3)"])
    verdict = (
        "It met all three premises of stage B."
        if met == 3
        else f"No setting met all three premises of stage B; this one came closest ({met} of 3: "
        f"L-S annealed on {b['L-S annealed']} seeds, S fits Q first: {b['S fits Q first']}, "
        f"Q-curvature smaller under L-S: {b['curvature smaller under L-S']})."
    )
    return (
        f"The calibration chose $d = {a['d']:g}$, $N = {a['n_train']:g}$, "
        f"$\\gamma_0 = {a['gamma0']:g}$ (references {a['error p0·N']:.3f} against "
        f"{a['error (1-q0)·N']:.3f}, gap 95% CI {a['gap CI']}), $\\lVert z_q\\rVert = "
        f"{b['zq_norm']:g}$, $\\lVert\\zeta\\rVert = {b['zeta_norm']:g}$ and "
        f"$\\eta_1 = {b['lr_large']:g}$. {verdict} L-S's effective pre-activation noise on Q "
        f"inputs after {c['noise_probe_steps']:g} steps at $\\eta_1$ was "
        f"{c['effective pre-activation noise on Q inputs']} on the calibration seeds."
    )


def calibration_log() -> pd.DataFrame:
    """The committed calibration log, for the chapter's appendix (empty before the first run)."""
    path = paths.project_root() / LOG
    return pd.read_csv(path) if path.is_file() else pd.DataFrame({"stage": []})


if __name__ == "__main__":
    import torch

    torch.set_num_threads(1)
    print(run_stages().to_string(), file=sys.stderr)
