"""The large-batch chapter's tables (no torch); the verdicts are the claims' (claims.py)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from lrgap_nb import stats
from lrgap_nb.claims import protocol_failures

from .claims import not_run_reason
from .params import (
    EXTRA_NETWORK_DATA,
    NETWORK_CLASSES,
    NETWORKS,
    PAPER_ACCURACY,
    PAPER_SHARPNESS,
    REPORT_NETWORKS,
    REPORT_OPTIMIZERS,
    LargeBatchParams,
)

LABELS = {"SB": "SB", "LB": "LB", "LB_budget": "LB (SB's epochs)"}
RISE_RADIUS = 0.25  # alpha distance from an end point of the line over which its rise is read


def _pm(values, digits: int = 2) -> str:
    return "-" if len(values) == 0 else stats.mean_std(list(values), digits)


def _paper(pair: tuple[float, float]) -> str:
    return f"{pair[0]:.2f} ± {pair[1]:.2f}"


def accuracy_frame(results: list) -> pd.DataFrame:
    """One row per run: network, optimizer, seed, and for SB, LB and LB at SB's epochs the batch,
    epochs, steps, train and test accuracy (percent), whether the gate was reached and how the
    run failed its own protocol (a list, empty when it did not; see `run_failures`)."""
    rows = []
    for r in results:
        c, p = r.config, r.payload
        row = {"network": c["model"], "dataset": c["dataset"], "optimizer": c["optimizer"]}
        row |= {"seed": c["seed"], "train size": p["train_size"], "gate": 100 * c["gate"]}
        row |= {"max epochs": c["max_epochs"], "width": c.get("model_width")}
        for key, label in LABELS.items():
            if key not in p:
                continue
            run = p[key]
            row[f"{label} batch"] = run["batch_size"]
            row[f"{label} epochs"] = run["epochs"]
            row[f"{label} steps"] = run["steps"]
            row[f"{label} reached gate"] = run["reached_gate"]
            row[f"train {label}"] = 100 * run["train_acc"]
            row[f"test {label}"] = 100 * run["test_acc"]
            row[f"{label} failures"] = run_failures(c, p, key)
        rows.append(row)
    return pd.DataFrame(rows)


def run_failures(config: dict, payload: dict, key: str) -> list[str]:
    """How SB, LB or LB at SB's epochs failed its own protocol: a gated run that stopped at the
    epoch cap below its gate, a train loss that diverged, never fell or ended at chance."""
    run = payload[key]
    losses = [payload["init"]["train_loss"]] + [h["train_eval_loss"] for h in run["history"]]
    classes = NETWORK_CLASSES.get(config["dataset"])
    failures = protocol_failures(losses, math.log(classes) if classes else None)
    if key != "LB_budget" and not run["reached_gate"]:
        failures.append(
            f"stopped at the {config['max_epochs']}-epoch cap at {100 * run['train_acc']:.2f}% "
            f"train accuracy, below its {100 * config['gate']:g}% gate"
        )
    return failures


def epochs_trained(payload: dict) -> int:
    """Every epoch a run trained: SB and LB to the gate, and LB for SB's epochs."""
    return sum(payload[label]["epochs"] for label in ("SB", "LB", "LB_budget") if label in payload)


def gate_status(ours: pd.DataFrame) -> str:
    """How many runs of each batch size reached the gate, e.g. "3/3, 2/3"."""
    n = len(ours)
    return f"{int(ours['SB reached gate'].sum())}/{n}, {int(ours['LB reached gate'].sum())}/{n}"


def accuracy_table(frame: pd.DataFrame, cfg: LargeBatchParams) -> pd.DataFrame:
    """Keskar's Table 2 (survey report Fig. 7) beside ours, one row per network."""
    rows = []
    for network in NETWORKS:
        paper = PAPER_ACCURACY[network]
        ours = frame[(frame["network"] == network) & (frame["optimizer"] == "adam")]
        row = {"network": network.upper()}
        if ours.empty:
            row |= {"data": "-", "seeds": 0, "not run": not_run_reason(network, cfg)}
            for col in ("train SB", "train LB", "test SB", "test LB"):
                row[f"{col} (paper)"] = _paper(paper[col])
            rows.append(row)
            continue
        row |= {
            "data": f"{ours['dataset'].iloc[0]} ({ours['train size'].iloc[0]:,} train)",
            "seeds": len(ours),
            "batches SB / LB": f"{ours['SB batch'].iloc[0]} / {ours['LB batch'].iloc[0]}",
            "epochs SB": _pm(ours["SB epochs"], 1),
            "epochs LB": _pm(ours["LB epochs"], 1),
            "steps SB / LB": round(float((ours["SB steps"] / ours["LB steps"]).mean()), 2),
            "gate (train acc %)": ours["gate"].iloc[0],
            "gate reached (SB, LB)": gate_status(ours),
        }
        for col in ("train SB", "train LB", "test SB", "test LB"):
            row[f"{col} (paper)"] = _paper(paper[col])
            row[f"{col} (ours)"] = _pm(ours[col])
        rows.append(row)
    return pd.DataFrame(rows)


def budget_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Hoffer et al.'s control: LB for SB's epochs (fewer updates) against LB trained to the gate."""
    rows = []
    ours_all = frame[(frame["optimizer"] == "adam")]
    for network, ours in ours_all.groupby("network", sort=False):
        if "test LB (SB's epochs)" not in ours or ours["test LB (SB's epochs)"].isna().any():
            rows.append({"network": network.upper(), "not run": "SB ran to the epoch cap"})
            continue
        budget = "LB (SB's epochs)"
        rows.append(
            {
                "network": network.upper(),
                "seeds": len(ours),
                "epochs (SB's)": _pm(ours[f"{budget} epochs"], 1),
                "steps LB (SB's epochs) / LB (gate)": round(
                    float((ours[f"{budget} steps"] / ours["LB steps"]).mean()), 2
                ),
                "train LB (SB's epochs)": _pm(ours[f"train {budget}"]),
                "test LB (SB's epochs)": _pm(ours[f"test {budget}"]),
                "test LB (gate)": _pm(ours["test LB"]),
                "test SB": _pm(ours["test SB"]),
            }
        )
    return pd.DataFrame(rows)


def history_frame(results: list) -> pd.DataFrame:
    """Per-epoch accuracies (percent) of SB, LB and LB at SB's epochs; epoch 0 is the shared start.

    Train accuracy is the end-of-epoch evaluation on the whole training set (the gate's number).
    """
    rows = []
    for r in results:
        c, p = r.config, r.payload
        for key, label in LABELS.items():
            if key not in p:
                continue
            base = {"network": c["model"], "seed": c["seed"], "batch": label}
            rows.append(
                base
                | {"epoch": 0, "train": 100 * p["init"]["train_acc"]}
                | {"test": 100 * p["init"]["test_acc"]}
            )
            for h in p[key]["history"]:
                rows.append(
                    base
                    | {"epoch": h["epoch"], "train": 100 * h["train_eval_acc"]}
                    | {"test": 100 * h["test_acc"]}
                )
    return pd.DataFrame(rows)


def sharpness_frame(results: list) -> pd.DataFrame:
    """One row per (run, SB/LB, space, epsilon): phi, its first-order part, ||grad f||, f."""
    rows = []
    for r in results:
        for s in r.payload.get("sharpness", []):
            rows.append({"network": r.config["model"], "seed": r.config["seed"], **s})
    return pd.DataFrame(rows)


def sharpness_table(frame: pd.DataFrame, acc: pd.DataFrame, space: str) -> pd.DataFrame:
    """Keskar's Table 3 (full space; survey report Fig. 9) or Table 4 (subspace) beside ours,
    with phi's first-order part and ||grad f|| of both solutions."""
    rows = []
    for network in NETWORKS:
        ours = (
            frame[(frame["network"] == network) & (frame["space"] == space)]
            if len(frame)
            else frame
        )
        if ours.empty:
            continue
        runs = acc[(acc["network"] == network) & (acc["optimizer"] == "adam")]
        for eps in sorted(ours["epsilon"].unique(), reverse=True):
            at = ours[ours["epsilon"] == eps]
            side = {b: at[at["batch"] == b].sort_values("seed") for b in ("SB", "LB")}
            row = {"network": network.upper(), "epsilon": f"{eps:g}", "seeds": len(side["SB"])}
            row["gate reached (SB, LB)"] = gate_status(runs)
            if space == "full":
                paper_sb, paper_lb = PAPER_SHARPNESS[network][eps]
                row |= {"SB (paper)": _paper(paper_sb), "LB (paper)": _paper(paper_lb)}
            for b in ("SB", "LB"):
                row[f"phi {b}"] = _pm(side[b]["phi"], 3)
                row[f"first-order part {b}"] = _pm(side[b]["first_order_phi"], 3)
                row[f"|grad f| {b}"] = _pm(side[b]["grad_norm"], 4)
            rows.append(row)
    return pd.DataFrame(rows)


def eigenvalue_frame(results: list) -> pd.DataFrame:
    """One row per run: the top Hessian eigenvalue of f at SB and at LB (same examples as phi)."""
    return pd.DataFrame(
        [
            {"network": r.config["model"], "seed": r.config["seed"], **r.payload["eigenvalue"]}
            for r in results
            if "eigenvalue" in r.payload
        ],
        columns=["network", "seed", "SB", "LB"],
    )


def eigenvalue_table(frame: pd.DataFrame, acc: pd.DataFrame) -> pd.DataFrame:
    """The top Hessian eigenvalues per network, mean ± std and per seed."""
    rows = []
    for network, at in frame.groupby("network", sort=False) if len(frame) else []:
        runs = acc[(acc["network"] == network) & (acc["optimizer"] == "adam")]
        rows.append(
            {
                "network": network.upper(),
                "seeds": len(at),
                "gate reached (SB, LB)": gate_status(runs),
                "SB": _pm(at["SB"], 2),
                "LB": _pm(at["LB"], 2),
                "per seed (SB, LB)": "; ".join(
                    f"{s}: {a:.1f}, {b:.1f}"
                    for s, a, b in zip(at["seed"], at["SB"], at["LB"], strict=True)
                ),
            }
        )
    return pd.DataFrame(rows)


def interpolation_frame(results: list) -> pd.DataFrame:
    """The line-plot rows of every run that has them (alpha, set, loss, accuracy, bn)."""
    frames = [
        pd.DataFrame(r.payload["interpolation"]).assign(
            network=r.config["model"], seed=r.config["seed"]
        )
        for r in results
        if r.payload.get("interpolation")
    ]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _rise_near(loss: pd.Series, centre: float, radius: float = RISE_RADIUS) -> float:
    """How much the loss rises within `radius` of alpha = centre."""
    a = loss.index.to_numpy()
    return float(
        loss[np.abs(a - centre) <= radius + 1e-9].max() - loss.iloc[np.abs(a - centre).argmin()]
    )


def interpolation_summary(frame: pd.DataFrame) -> pd.DataFrame:
    """Per network and BN treatment: train loss at SB (a=0), LB (a=1), the worst point between
    them, and how far the loss rises within 0.25 of each end."""
    rows = []
    if frame.empty:
        return pd.DataFrame(rows)
    for (network, bn), at in frame[frame["set"] == "train"].groupby(["network", "bn"], sort=False):
        loss = at.set_index("alpha")["loss"].sort_index()
        a = loss.index.to_numpy()
        rows.append(
            {
                "network": network.upper(),
                "BN statistics": bn,
                "train loss at SB": float(loss.iloc[np.abs(a).argmin()]),
                "train loss at LB": float(loss.iloc[np.abs(a - 1).argmin()]),
                "max train loss between": float(loss[(a >= 0) & (a <= 1)].max()),
                "rise near SB": _rise_near(loss, 0.0),
                "rise near LB": _rise_near(loss, 1.0),
            }
        )
    return pd.DataFrame(rows)


def _sb_lb_row(ours: pd.DataFrame) -> dict:
    if ours.empty:
        return {"seeds": 0}
    row = {
        "data": f"{ours['dataset'].iloc[0]} ({ours['train size'].iloc[0]:,} train)",
        "seeds": len(ours),
        "batches SB / LB": f"{ours['SB batch'].iloc[0]} / {ours['LB batch'].iloc[0]}",
        "epochs SB / LB": f"{_pm(ours['SB epochs'], 1)} / {_pm(ours['LB epochs'], 1)}",
        "gate reached (SB, LB)": gate_status(ours),
        "train SB / LB (ours)": f"{_pm(ours['train SB'])} / {_pm(ours['train LB'])}",
        "SB (ours)": _pm(ours["test SB"]),
        "LB (ours)": _pm(ours["test LB"]),
    }
    return row


def optimizer_table(frame: pd.DataFrame, cfg: LargeBatchParams) -> pd.DataFrame:
    """Survey report 3.2: F1 test accuracy with Adam, SGD and AdaGrad, SB beside LB, same gate."""
    rows = []
    for optimizer in ("adam", *cfg.extra_optimizers):
        ours = frame[(frame["network"] == "f1") & (frame["optimizer"] == optimizer)]
        paper_sb, paper_lb = REPORT_OPTIMIZERS[optimizer]
        row = {
            "optimizer": optimizer,
            "fixed LR": cfg.lr if optimizer == "adam" else cfg.extra_lr,
            "SB (report)": f"{paper_sb:.2f}",
            "LB (report)": "-" if paper_lb is None else f"{paper_lb:.2f}",
        }
        row |= _sb_lb_row(ours)
        if ours.empty:
            row["not run"] = f"not run at profile {cfg.profile}"
        rows.append(row)
    return pd.DataFrame(rows)


def network_table(frame: pd.DataFrame, cfg: LargeBatchParams) -> pd.DataFrame:
    """Survey report 3.2: ResNet-44, VGG-16 (BN) and WRN-16-4, SB beside LB (Adam, fixed LR)."""
    rows = []
    for network, dataset in EXTRA_NETWORK_DATA.items():
        ours = frame[frame["network"] == network]
        paper_sb, paper_lb = REPORT_NETWORKS[network]
        row = {"network": network, "dataset": dataset}
        row |= {"SB (report)": f"{paper_sb:.2f}", "LB (report)": f"{paper_lb:.2f}"}
        row |= _sb_lb_row(ours)
        if ours.empty:
            row["not run"] = (
                f"not run at profile {cfg.profile} (full {dataset} to a 99% train-accuracy "
                "gate is days on this 2-core CPU; it needs a GPU)"
            )
        rows.append(row)
    return pd.DataFrame(rows)


def setup_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """What each network trained on, with which batches, read from the runs: one row per
    (network, optimizer)."""
    rows = []
    for (network, optimizer), at in frame.groupby(["network", "optimizer"], sort=False):
        sb, lb = int(at["SB batch"].iloc[0]), int(at["LB batch"].iloc[0])
        width = at["width"].iloc[0]
        narrowed = f"{width:.0f} (narrower than the paper's)"
        rows.append(
            {
                "network": network.upper(),
                "width": "the paper's" if pd.isna(width) else narrowed,
                "optimizer": optimizer,
                "data": at["dataset"].iloc[0],
                "train examples": int(at["train size"].iloc[0]),
                "SB": sb,
                "LB": lb,
                "LB / SB": round(lb / sb, 1),
                "gate (train acc %)": float(at["gate"].iloc[0]),
                "max epochs": int(at["max epochs"].iloc[0]),
                "seeds": len(at),
            }
        )
    return pd.DataFrame(rows)


def _span(name: str, values: dict) -> dict[str, float | str]:
    """The lowest and highest of `values` (keyed by network) as name_low, name_high, and the
    network of each as name_low_network, name_high_network ("-" and NaN when there is none)."""
    if not values:
        return {f"{name}_{end}": math.nan for end in ("low", "high")} | {
            f"{name}_{end}_network": "-" for end in ("low", "high")
        }
    out = {}
    for end, pick in (("low", min), ("high", max)):
        key = pick(values, key=values.get)
        out[f"{name}_{end}"] = float(values[key])
        out[f"{name}_{end}_network"] = (key[0] if isinstance(key, tuple) else key).upper()
    return out


def reading(
    frame: pd.DataFrame, sharp: pd.DataFrame, eigen: pd.DataFrame, interp: pd.DataFrame
) -> dict[str, float | str]:
    """The main results read together over the networks that ran with Adam (means over seeds):
    the lowest and highest across networks of the test gap SB - LB (ours and the paper's), of
    SB's steps per LB step, of LB / SB for phi (full space, every epsilon) and for the top
    Hessian eigenvalue, of the share of phi its first-order part makes, and of how much the
    train loss rises beside each end of the SB-LB line (either BN treatment)."""
    ours = frame[(frame["optimizer"] == "adam") & frame["network"].isin(NETWORKS)]
    by = {n: ours[ours["network"] == n] for n in NETWORKS if n in set(ours["network"])}
    paper = {n: PAPER_ACCURACY[n] for n in by}
    full = sharp[sharp["space"] == "full"] if len(sharp) else sharp
    phi = full.groupby(["network", "epsilon", "batch"])[["phi", "first_order_phi"]].mean()
    phi = phi.unstack("batch") if len(phi) else phi
    ratio = (phi["phi"]["LB"] / phi["phi"]["SB"]).to_dict() if len(phi) else {}
    share = {b: phi["first_order_phi"][b] / phi["phi"][b] for b in ("SB", "LB")} if len(phi) else {}
    eig = eigen.groupby("network")[["SB", "LB"]].mean()
    line = interp.groupby("network")[["rise near SB", "rise near LB"]].max() if len(interp) else {}
    names = [n.upper() for n in by] or ["-"]
    values = {"networks": " and ".join(filter(None, [", ".join(names[:-1]), names[-1]]))}
    values |= _span("gap", {n: at["test SB"].mean() - at["test LB"].mean() for n, at in by.items()})
    values |= _span("paper_gap", {n: p["test SB"][0] - p["test LB"][0] for n, p in paper.items()})
    values |= _span("steps", {n: (at["SB steps"] / at["LB steps"]).mean() for n, at in by.items()})
    values |= _span("phi_ratio", ratio)
    for b in ("SB", "LB"):
        values |= _span(f"first_order_share_{b.lower()}", share[b].to_dict() if share else {})
    values |= _span("eigen_ratio", (eig["LB"] / eig["SB"]).to_dict())
    for b in ("SB", "LB"):
        values |= _span(f"rise_{b.lower()}", line[f"rise near {b}"].to_dict() if len(line) else {})
    return values | {"rise_radius": RISE_RADIUS}
