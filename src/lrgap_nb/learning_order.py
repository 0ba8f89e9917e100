"""Learning order on Li, Wei & Ma's distribution: L-S, S and S + noise on a two-layer ReLU net.

The network is f(x) = sum_j u_j relu(<U_j, x> + Xi_j) with U trained and the second layer u fixed
at balanced signs ±1/sqrt(m). Only U is trained because the paper's analysis and update rule act
on U alone (Li, Wei & Ma 2019, Sec. 3); a fixed u also removes the u–U rescaling symmetry, so weight
decay and the noise act on one set of weights. Training is full-batch gradient descent on the
logistic loss plus weight decay, with spherical Gaussian noise added to the gradient:
U <- U - lr·(grad + lambda·U + xi), xi ~ N(0, grad_noise^2 I). Full batch keeps all the noise in xi,
where the theory puts it. Many runs (seeds, algorithms, sample sizes) train at once as one batch of
weight matrices (torch.bmm), with per-run learning rates, thresholds and masks.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
from collections.abc import Iterator
from dataclasses import field

import numpy as np
import pandas as pd
import torch

from . import synthetic
from .params import choice, non_negative, positive

ALGORITHMS = ("L-S", "S", "S + noise")


@dataclasses.dataclass(frozen=True)
class LearningOrderParams:
    profile: str = field(metadata=choice("smoke", "cpu", "full"))
    d: int = field(metadata=positive())  # dimension of each component; x has 2d coordinates
    n_train: int = field(metadata=positive())  # training examples N of the main runs
    n_test: int = field(metadata=positive())  # test examples per group (P only, Q only, both)
    width: int = field(metadata=positive())  # hidden units m
    gamma0: float = field(metadata=non_negative())  # P's margin along w*
    zq_norm: float = field(metadata=positive())  # ||z_q||, the scale of Q
    zeta_norm: float = field(metadata=positive())  # ||zeta||, Q's offset (<< zq_norm)
    init_scale: float = field(metadata=non_negative())  # std of U's entries at init (tau_0)
    lr_large: float = field(metadata=positive())  # eta_1 of L-S
    lr_small: float = field(metadata=positive())  # eta_2: L-S after the anneal, S, S + noise
    weight_decay: float = field(metadata=non_negative())  # lambda
    grad_noise: float = field(metadata=non_negative())  # tau_xi, std of the gradient noise xi
    pre_noise: float = field(
        metadata=non_negative()
    )  # std of the pre-activation noise of S + noise
    noise_decay: float = field(metadata=positive())  # per-step factor on pre_noise after its anneal
    epsilon1: float = field(metadata=positive())  # anneal at train loss epsilon1 + q0·log 2
    epsilon2: float = field(metadata=positive())  # stop at train loss epsilon2 (all algorithms)
    max_steps: int = field(metadata=positive())  # cap on gradient steps per run
    eval_every: int = field(metadata=positive())  # steps between recorded test evaluations
    seeds: int = field(metadata=positive())  # seeds of the main runs
    sweep_n: tuple[int, ...] = field(metadata=positive())  # training-set sizes of the N sweep
    sweep_seeds: int = field(metadata=positive())  # seeds per sweep point
    p0: float = field(default=0.2, metadata=non_negative())  # probability of a P-only example
    q0: float = field(default=0.2, metadata=non_negative())  # probability of a Q-only example


_COMMON = dict(
    p0=0.2,  # the slides' 20% / 20% / 60% groups
    q0=0.2,
    d=150,  # x in R^300; p0·N = 40 P-only examples << d keeps P sample-hungry for S
    n_test=1000,
    width=50,
    gamma0=0.1,  # a real margin, so P is easy to fit while the large LR's noise blurs Q
    zq_norm=9.0,  # Q's inputs are larger than P's (||x1|| ~ 1): small-LR GD fits Q fast
    zeta_norm=1.5,  # ||zeta|| << ||z_q||: Q's kink is fine enough for eta_1's noise to blur it
    init_scale=0.1,
    lr_large=10.0,  # eta_1: 20 x eta_2
    lr_small=0.5,  # eta_2
    weight_decay=1e-4,
    grad_noise=0.005,  # tau_xi: stationary weight noise tau_xi·sqrt(lr / 2 lambda): 0.79 (eta_1), 0.18 (eta_2)
    pre_noise=1.0,  # pre-activation noise std of S + noise, of the order of the pre-activations on Q
    noise_decay=0.99,  # per step after its anneal
    epsilon1=0.25,  # anneal at loss 0.25 + 0.2 log 2 = 0.39
    epsilon2=0.1,  # stop (all algorithms) at train loss 0.1
    eval_every=50,
)
DEFAULTS = {
    "smoke": {
        **_COMMON,
        **dict(d=20, n_train=100, n_test=200, width=20, max_steps=200, eval_every=20),
        **dict(seeds=2, sweep_n=(50, 100), sweep_seeds=2),
    },
    "cpu": {
        **_COMMON,
        "n_train": 200,
        "max_steps": 4000,
        "seeds": 5,
        "sweep_n": (100, 200, 400),
        "sweep_seeds": 5,
    },
    "full": {
        **_COMMON,
        "n_train": 200,
        "max_steps": 20000,
        "seeds": 20,
        "sweep_n": (50, 100, 200, 400, 800),
        "sweep_seeds": 20,
    },
}


# --- the batched learner -------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Schedule:
    """Per-run optimisation settings of one batch (tensors of shape (B,))."""

    lr_before: torch.Tensor  # learning rate until the anneal
    lr_after: torch.Tensor  # learning rate after it
    pre_noise: torch.Tensor  # pre-activation noise std until the anneal (decays after)
    anneal_loss: torch.Tensor  # anneal at the first step with train loss below this (inf: at 0)
    stop_loss: torch.Tensor  # stop once annealed and the train loss is at most this


def schedule_for(algorithm: str, cfg: LearningOrderParams, runs: int) -> Schedule:
    """The seeds' three algorithms (Li, Wei & Ma 2019, Alg. 1, Alg. 2 and Sec. 5's noise variant)."""
    threshold = cfg.epsilon1 + cfg.q0 * math.log(2)
    lr1, noise, anneal = {
        "L-S": (cfg.lr_large, 0.0, threshold),
        "S": (cfg.lr_small, 0.0, math.inf),
        "S + noise": (cfg.lr_small, cfg.pre_noise, threshold),
    }[algorithm]

    def full(v: float) -> torch.Tensor:
        return torch.full((runs,), float(v))

    return Schedule(full(lr1), full(cfg.lr_small), full(noise), full(anneal), full(cfg.epsilon2))


def cat_schedules(schedules: list[Schedule]) -> Schedule:
    return Schedule(
        *(torch.cat([getattr(s, f.name) for s in schedules]) for f in dataclasses.fields(Schedule))
    )


def output_weights(width: int) -> torch.Tensor:
    """Fixed second layer u: half +1/sqrt(m), half -1/sqrt(m)."""
    signs = torch.ones(width)
    signs[width // 2 :] = -1.0
    return signs / width**0.5


def forward(W: torch.Tensor, X: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """Outputs (B, n) of the batched network; W = U transposed, (B, D, m), X (B, n, D)."""
    return torch.relu(X @ W) @ u


def logistic(margin: torch.Tensor) -> torch.Tensor:
    return torch.nn.functional.softplus(-margin)


def accuracy(W: torch.Tensor, X: torch.Tensor, y: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    return (forward(W, X, u) * y > 0).float().mean(dim=1)


def q_points(dist: list[synthetic.Distribution]) -> torch.Tensor:
    """Inputs (0, z_q + zeta), (0, z_q - zeta), (0, z_q) of each run, shape (B, 3, 2d)."""
    d = dist[0].d
    points = torch.zeros(len(dist), 3, 2 * d)
    for b, dd in enumerate(dist):
        points[b, :, d:] = torch.stack([dd.z_q + dd.zeta, dd.z_q - dd.zeta, dd.z_q])
    return points


def q_curvature(W: torch.Tensor, points: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """|g(z_q + zeta) + g(z_q - zeta) - 2 g(z_q)| with g the net on Q-only inputs (Lemma 4.1-4.2)."""
    g = forward(W, points, u)
    return (g[:, 0] + g[:, 1] - 2 * g[:, 2]).abs()


@dataclasses.dataclass
class Batch:
    """Training and per-group test data of B runs; `mask` pads unequal training-set sizes."""

    X: torch.Tensor  # (B, N, D)
    y: torch.Tensor  # (B, N)
    mask: torch.Tensor  # (B, N), 1 for real examples
    group: torch.Tensor  # (B, N)
    test: dict[str, tuple[torch.Tensor, torch.Tensor]]  # group name -> (X (B, n, D), y (B, n))
    dist: list[synthetic.Distribution]


def pre_noise_at(
    pre_noise: torch.Tensor, anneal_step: torch.Tensor, step: int, decay: float
) -> torch.Tensor:
    """Pre-activation noise std at `step`: constant until the anneal (anneal_step -1: not yet), then
    multiplied by `decay` per step, the annealed noise of Li, Wei & Ma (2019, Sec. 5)."""
    since = torch.where(anneal_step >= 0, step - anneal_step, 0).clamp(min=0)
    return pre_noise * decay**since


def train(
    batch: Batch,
    schedule: Schedule,
    cfg: LearningOrderParams,
    generator: torch.Generator,
) -> dict[str, list]:
    """Train B runs at once; return per-run histories (lists) and the anneal and stop steps.

    Each run uses schedule.lr_before until its full-batch train loss first drops below
    schedule.anneal_loss (L-S's epsilon1 + q0·log 2), then lr_after, with its pre-activation noise
    decaying by cfg.noise_decay per step; it stops at train loss <= stop_loss or at cfg.max_steps.
    Stopped runs are frozen while the others go on.
    """
    B, N, D = batch.X.shape
    u = output_weights(cfg.width)
    W = cfg.init_scale * torch.randn(B, D, cfg.width, generator=generator)  # U transposed
    Xt = batch.X.transpose(1, 2).contiguous()
    points = q_points(batch.dist)
    n = batch.mask.sum(dim=1)
    annealed = schedule.anneal_loss == math.inf
    anneal_step = torch.where(annealed, 0, -1)
    stop_step = torch.full((B,), -1)
    history: dict[str, list] = {k: [] for k in ("step", "train_loss", "q_curvature", *batch.test)}
    for step in range(cfg.max_steps + 1):
        pre = batch.X @ W
        noise_scale = pre_noise_at(schedule.pre_noise, anneal_step, step, cfg.noise_decay)
        if bool((noise_scale > 0).any()):
            pre = pre + noise_scale[:, None, None] * torch.randn(pre.shape, generator=generator)
        margin = batch.y * (torch.relu(pre) @ u)
        loss = (logistic(margin) * batch.mask).sum(dim=1) / n
        newly = ~annealed & (loss < schedule.anneal_loss)
        anneal_step = torch.where(newly, step, anneal_step)
        annealed = annealed | newly
        running = stop_step < 0
        done = running & (annealed & (loss <= schedule.stop_loss) | (step == cfg.max_steps))
        stop_step = torch.where(done, step, stop_step)
        if step % cfg.eval_every == 0 or bool(done.any()):
            history["step"].append(step)
            history["train_loss"].append(loss.tolist())
            history["q_curvature"].append(q_curvature(W, points, u).tolist())
            for name, (X, y) in batch.test.items():
                history[name].append(accuracy(W, X, y, u).tolist())
        running = stop_step < 0
        if not bool(running.any()):
            break
        dout = -batch.y * torch.sigmoid(-margin) * batch.mask / n[:, None]  # d loss / d output
        grad = Xt @ (dout[:, :, None] * u * (pre > 0))
        xi = cfg.grad_noise * torch.randn(W.shape, generator=generator)
        lr = torch.where(annealed, schedule.lr_after, schedule.lr_before) * running
        W = W - lr[:, None, None] * (grad + cfg.weight_decay * W + xi)
    return {
        "history": history,
        "anneal_step": anneal_step.tolist(),
        "stop_step": stop_step.tolist(),
    }


def make_batch(
    cfg: LearningOrderParams,
    seeds: list[int],
    n_train: list[int],
    keep: str = "all",
) -> Batch:
    """Training and test data of one run per (seed, n_train) pair; a seed fixes its distribution.

    `keep` selects training examples for the effective-sample-size references (Li, Wei & Ma 2019,
    Sec. 4-5): "all"; "P only" (the p0·N P-only examples, what S learns P from); or "with P"
    (the (1 - q0)·N examples that contain P, what L-S learns P from), with x2 zeroed in both
    references so the model can only use P.
    """
    rows = []
    for seed, n in zip(seeds, n_train, strict=True):
        gen = torch.Generator().manual_seed(seed)
        dist = synthetic.make_distribution(
            cfg.d, cfg.gamma0, cfg.zq_norm, cfg.zeta_norm, gen, p0=cfg.p0, q0=cfg.q0
        )
        X, y, group = synthetic.sample(n, dist, gen)
        test = {
            name: synthetic.sample(cfg.n_test, dist, gen, g)[:2]
            for g, name in enumerate(synthetic.GROUPS)
        }
        keep_row = {"all": group >= 0, "P only": group == 0, "with P": group != 1}[keep]
        if keep != "all":
            X = X.clone()
            X[:, cfg.d :] = 0.0
        rows.append((X, y, keep_row.float(), group, test, dist))
    size = max(n_train)

    def pad(t: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.pad(
            t, (0, 0, 0, size - len(t)) if t.dim() == 2 else (0, size - len(t))
        )

    return Batch(
        X=torch.stack([pad(r[0]) for r in rows]),
        y=torch.stack([pad(r[1]) for r in rows]),
        mask=torch.stack([pad(r[2]) for r in rows]),
        group=torch.stack([pad(r[3]) for r in rows]),
        test={
            name: tuple(torch.stack([r[4][name][i] for r in rows]) for i in range(2))
            for name in synthetic.GROUPS
        },
        dist=[r[5] for r in rows],
    )


# --- chapter runs, through the results cache ------------------------------------------------------


@contextlib.contextmanager
def _one_thread() -> Iterator[None]:
    """These matrices are small: one thread beats two on a shared CPU (threading overhead)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _split(out: dict[str, list], labels: list[dict]) -> list[dict]:
    """Per-run records from a batched `train` output, each history cut at the run's stop step."""
    runs = []
    hist = out["history"]
    for b, label in enumerate(labels):
        stop = out["stop_step"][b]
        keep = [k for k, s in enumerate(hist["step"]) if s <= stop]
        record = {key: [hist[key][k][b] for k in keep] for key in hist if key != "step"}
        runs.append(
            {
                **label,
                "anneal_step": out["anneal_step"][b],
                "stop_step": stop,
                "history": {"step": [hist["step"][k] for k in keep], **record},
            }
        )
    return runs


def _train_algorithms(
    cfg: LearningOrderParams, algorithms: tuple[str, ...], n_train: int, seeds: int
):
    seed_list = list(range(seeds)) * len(algorithms)
    batch = make_batch(cfg, seed_list, [n_train] * len(seed_list))
    schedule = cat_schedules([schedule_for(a, cfg, seeds) for a in algorithms])
    with _one_thread():
        out = train(batch, schedule, cfg, torch.Generator().manual_seed(10_000 + n_train))
    labels = [{"algorithm": a, "seed": s} for a in algorithms for s in range(seeds)]
    return _split(out, labels)


def main_payload(cfg: LearningOrderParams) -> dict:
    """The three algorithms on cfg.seeds seeds, N = cfg.n_train, with full histories."""
    return {"runs": _train_algorithms(cfg, ALGORITHMS, cfg.n_train, cfg.seeds)}


def references_payload(cfg: LearningOrderParams) -> dict:
    """Effective-sample-size references: S trained on P alone, from the p0·N P-only examples or the
    (1 - q0)·N examples that contain P, of the same training sets (Li, Wei & Ma 2019, Sec. 1)."""
    runs = []
    for keep in ("P only", "with P"):
        seeds = list(range(cfg.seeds))
        batch = make_batch(cfg, seeds, [cfg.n_train] * cfg.seeds, keep=keep)
        with _one_thread():
            out = train(
                batch, schedule_for("S", cfg, cfg.seeds), cfg, torch.Generator().manual_seed(1)
            )
        labels = [{"algorithm": f"S on P, {keep}", "seed": s} for s in seeds]
        runs += _split(out, labels)
    return {"runs": runs}


@dataclasses.dataclass(frozen=True)
class SweepPoint:
    """One N of the sweep: L-S and S on cfg.sweep_seeds seeds with n_train examples."""

    params: LearningOrderParams
    n_train: int


def sweep_payload(point: SweepPoint) -> dict:
    cfg = point.params
    return {"runs": _train_algorithms(cfg, ("L-S", "S"), point.n_train, cfg.sweep_seeds)}


def chapter_runs(cfg: LearningOrderParams) -> list:
    """Every cached run of the chapter, as picklable units of work (see lrgap_nb.sweep)."""
    from .runs import Run

    here = "lrgap_nb.learning_order"
    return [
        Run("learning_order_main", f"{here}:main_payload", cfg),
        Run("learning_order_references", f"{here}:references_payload", cfg),
        *(
            Run("learning_order_sweep", f"{here}:sweep_payload", SweepPoint(cfg, n))
            for n in cfg.sweep_n
        ),
    ]


def run_main(cfg: LearningOrderParams):
    return chapter_runs(cfg)[0].execute()


def run_references(cfg: LearningOrderParams):
    return chapter_runs(cfg)[1].execute()


def run_sweep(cfg: LearningOrderParams) -> dict[int, object]:
    return {run.config.n_train: run.execute() for run in chapter_runs(cfg)[2:]}


# --- tables -----------------------------------------------------------------------------------------


def final_errors(result, cfg: LearningOrderParams) -> pd.DataFrame:
    """Final test error per run and group; 'overall' is the mixture p0·P + q0·Q + (1-p0-q0)·both."""
    rows = []
    for run in result.payload["runs"]:
        h = run["history"]
        err = {g: 1.0 - h[g][-1] for g in synthetic.GROUPS}
        overall = (
            cfg.p0 * err["P only"] + cfg.q0 * err["Q only"] + (1 - cfg.p0 - cfg.q0) * err["both"]
        )
        rows.append(
            {
                "algorithm": run["algorithm"],
                "seed": run["seed"],
                "overall": overall,
                **err,
                "steps": run["stop_step"],
                "annealed at": run["anneal_step"],
                "final train loss": h["train_loss"][-1],
            }
        )
    return pd.DataFrame(rows)


def history_frame(result) -> pd.DataFrame:
    """Long table of every recorded evaluation: algorithm, seed, step, loss, curvature, accuracies."""
    frames = []
    for run in result.payload["runs"]:
        frame = pd.DataFrame(run["history"])
        frame.insert(0, "seed", run["seed"])
        frame.insert(0, "algorithm", run["algorithm"])
        frame["anneal_step"] = run["anneal_step"]
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def mean_std(frame: pd.DataFrame, columns: list[str], by: str = "algorithm") -> pd.DataFrame:
    """'mean ± std' strings per group of `by`, with the number of seeds."""
    grouped = frame.groupby(by, sort=False)[columns]
    mean, std = grouped.mean(), grouped.std(ddof=1).fillna(0.0)
    table = mean.round(3).astype(str) + " ± " + std.round(3).astype(str)
    table.insert(0, "seeds", frame.groupby(by, sort=False).size())
    return table.reset_index()


def mean_ci(values: np.ndarray) -> tuple[float, float, float]:
    """Mean and Student-t 95% interval (the interval is the mean itself for one value)."""
    from scipy import stats

    values = np.asarray(values, float)
    mean = float(values.mean())
    if len(values) < 2:
        return mean, mean, mean
    half = float(stats.t.ppf(0.975, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values)))
    return mean, mean - half, mean + half


def paired_gap(
    errors: pd.DataFrame, column: str, worse: str, better: str
) -> tuple[float, float, float]:
    """Mean and 95% interval of error(worse) − error(better) over seeds (same data per seed)."""
    wide = errors.pivot(index="seed", columns="algorithm", values=column)
    return mean_ci((wide[worse] - wide[better]).to_numpy())


def effective_sample_table(main_errors: pd.DataFrame, ref_errors: pd.DataFrame) -> pd.DataFrame:
    """P-only test error of S and L-S beside the two references trained on P alone."""
    frame = pd.concat([main_errors, ref_errors], ignore_index=True)
    keep = ["S", "S on P, P only", "L-S", "S on P, with P"]
    frame = frame[frame["algorithm"].isin(keep)]
    table = mean_std(frame, ["P only"])
    table["P-only examples trained on"] = table["algorithm"].map(
        {
            "S": "all N (claim: effectively p0·N)",
            "S on P, P only": "p0·N",
            "L-S": "all N (claim: effectively (1-q0)·N)",
            "S on P, with P": "(1-q0)·N",
        }
    )
    return table.set_index("algorithm").loc[keep].reset_index()


def sweep_frame(sweep: dict[int, object], cfg: LearningOrderParams) -> pd.DataFrame:
    """Final overall test error of L-S and S and their paired gap (S − L-S) per N, mean and 95% CI."""
    rows = []
    for n, result in sweep.items():
        errors = final_errors(result, cfg)
        row = {"N": n, "seeds": errors["seed"].nunique()}
        for algorithm in ("L-S", "S"):
            m, lo, hi = mean_ci(errors.loc[errors["algorithm"] == algorithm, "overall"])
            row |= {f"{algorithm} error": m, f"{algorithm} CI low": lo, f"{algorithm} CI high": hi}
        m, lo, hi = paired_gap(errors, "overall", "S", "L-S")
        row |= {"gap S − L-S": m, "gap CI low": lo, "gap CI high": hi}
        row["L-S annealed (runs)"] = int(
            (errors.loc[errors["algorithm"] == "L-S", "annealed at"] >= 0).sum()
        )
        rows.append(row)
    return pd.DataFrame(rows)


# --- the statements, judged from the numbers --------------------------------------------------------

CHANCE_BAND = 0.6  # Q-only accuracy below this counts as "not learned" (chance is 0.5)
LEARNED = 0.9  # Q-only accuracy at or above this counts as "learned"


def learning_order(history: pd.DataFrame) -> pd.DataFrame:
    """Per L-S seed: P/Q accuracy and Q curvature just before the anneal, the same for S and
    S + noise at that step, and the first step each run reaches Q-only accuracy >= LEARNED."""
    rows = []
    ls = history[history["algorithm"] == "L-S"]
    for seed, run in ls.groupby("seed"):
        anneal = int(run["anneal_step"].iloc[0])
        window = anneal if anneal >= 0 else int(run["step"].max())
        row = {"seed": seed, "L-S anneal step": anneal}
        for algorithm in ALGORITHMS:
            other = history[(history["algorithm"] == algorithm) & (history["seed"] == seed)]
            before = other[other["step"] < max(window, 1)]
            last = before.iloc[-1] if len(before) else other.iloc[0]
            row[f"{algorithm}: P acc"] = last["P only"]
            row[f"{algorithm}: Q acc"] = last["Q only"]
            row[f"{algorithm}: Q curvature"] = before["q_curvature"].mean()
            reached = other.loc[other["Q only"] >= LEARNED, "step"]
            row[f"{algorithm}: Q learned at"] = int(reached.iloc[0]) if len(reached) else np.nan
        rows.append(row)
    return pd.DataFrame(rows)


def statements(
    order: pd.DataFrame,
    errors: pd.DataFrame,
    ref_errors: pd.DataFrame,
    sweep: pd.DataFrame,
) -> pd.DataFrame:
    """Each claim of Li, Wei & Ma (2019) beside our number and a verdict computed from it."""
    mean = order.mean(numeric_only=True)
    by_alg = errors.groupby("algorithm")[["overall", "P only", "Q only", "both"]].mean()
    refs = ref_errors.groupby("algorithm")["P only"].mean()
    annealed = int((order["L-S anneal step"] >= 0).sum())
    rows = []

    def add(claim: str, anchor: str, ours: str, ok: bool) -> None:
        rows.append(
            {
                "statement": claim,
                "paper": anchor,
                "ours": ours,
                "verdict": "reproduced" if ok else "not reproduced",
            }
        )

    add(
        "L-S anneals once P-containing examples are fit (loss < eps1 + q0 log 2)",
        "Thm 3.4 (1)",
        f"{annealed}/{len(order)} seeds annealed, mean step {order['L-S anneal step'].mean():.0f}",
        annealed == len(order),
    )
    p_pre, q_pre = mean["L-S: P acc"], mean["L-S: Q acc"]
    add(
        "Before the anneal L-S has learned P but not Q",
        "Lemma 4.2, Sec. 4",
        f"P-only acc {p_pre:.3f}, Q-only acc {q_pre:.3f} just before the anneal",
        annealed > 0 and q_pre < CHANCE_BAND and p_pre > q_pre + 0.1,
    )
    q_final = 1 - by_alg.loc["L-S", "Q only"]
    add(
        "After the anneal L-S learns Q",
        "Sec. 4",
        f"final Q-only acc {q_final:.3f}",
        q_final >= LEARNED,
    )
    s_q, ls_q = mean["S: Q acc"], mean["L-S: Q acc"]
    add(
        "S fits Q early: by L-S's anneal step S already classifies Q",
        "Thm 3.5, Sec. 5",
        f"Q-only acc at that step: S {s_q:.3f}, L-S {ls_q:.3f}",
        s_q >= LEARNED and ls_q < CHANCE_BAND,
    )
    c_ls, c_s = mean["L-S: Q curvature"], mean["S: Q curvature"]
    add(
        "|g(z+ζ)+g(z−ζ)−2g(z)| stays small under L-S before the anneal, large under S",
        "Lemmas 4.1–4.2",
        f"mean over the pre-anneal window: L-S {c_ls:.3f}, S {c_s:.3f} (ratio {c_ls / c_s:.2f})",
        c_ls < 0.5 * c_s,
    )
    gap, lo, hi = paired_gap(errors, "overall", "S", "L-S")
    add(
        "L-S ends with lower test error than S",
        "Thm 3.4 vs Thm 3.5",
        f"error S − L-S = {gap:+.3f}, 95% CI [{lo:+.3f}, {hi:+.3f}]",
        lo > 0,
    )
    s_p, ls_p = by_alg.loc["S", "P only"], by_alg.loc["L-S", "P only"]
    few, many = refs["S on P, P only"], refs["S on P, with P"]
    add(
        "S learns P as if from the p0·N P-only examples",
        "Sec. 1, Lemma 5.2",
        f"P-only error: S {s_p:.3f}; references p0·N {few:.3f}, (1-q0)·N {many:.3f}",
        abs(s_p - few) < abs(s_p - many),
    )
    add(
        "L-S learns P as if from the (1-q0)·N examples containing P",
        "Sec. 1, Thm 3.4",
        f"P-only error: L-S {ls_p:.3f}; references p0·N {few:.3f}, (1-q0)·N {many:.3f}",
        abs(ls_p - many) < abs(ls_p - few),
    )
    gap_n, lo_n, hi_n = paired_gap(errors, "overall", "S", "S + noise")
    add(
        "Small LR with annealed pre-activation noise beats S",
        "Sec. 5 (mitigation)",
        f"error S − (S + noise) = {gap_n:+.3f}, 95% CI [{lo_n:+.3f}, {hi_n:+.3f}]",
        lo_n > 0,
    )
    positive = int((sweep["gap CI low"] > 0).sum())
    add(
        "The L-S advantage holds across training-set sizes",
        "Thm 3.4 vs 3.5",
        f"gap CI above 0 at {positive} of {len(sweep)} sizes N = {', '.join(map(str, sweep['N']))}",
        positive == len(sweep),
    )
    return pd.DataFrame(rows)


def verdict(table: pd.DataFrame) -> str:
    """Markdown summary of the statements table, written from its verdict column."""
    done = table[table["verdict"] == "reproduced"]
    lines = [f"**{len(done)} of {len(table)} statements reproduced at this scale.**", ""]
    lines += [
        f"- {r.statement} ({r.paper}): {r.ours} — **{r.verdict}**." for r in table.itertuples()
    ]
    return "\n".join(lines)


def claims(table: pd.DataFrame, cfg: LearningOrderParams) -> list[dict]:
    """This chapter's rows of the book's summary table."""
    scale = f"d={cfg.d}, N={cfg.n_train}, {cfg.seeds} seeds ({cfg.profile})"
    return [
        {
            "claim": r.statement,
            "paper": r.paper,
            "ours": r.ours,
            "scale": scale,
            "verdict": r.verdict,
        }
        for r in table.itertuples()
    ]
