"""The batched two-layer learner: many runs (seeds, algorithms, sample sizes) train at once.

The network is f(x) = sum_j u_j relu(<U_j, x>) with U trained and the second layer u fixed at
balanced signs ±1/sqrt(m). Only U is trained because the paper's analysis and update rule act on U
alone (Li, Wei & Ma 2019, Sec. 3); a fixed u also removes the u–U rescaling symmetry, so weight
decay and the noise act on one set of weights. Training is full-batch gradient descent on the
logistic loss plus weight decay, with spherical Gaussian noise added to the gradient:
U <- U - lr·(grad + lambda·U + xi), xi ~ N(0, grad_noise^2 I). Full batch keeps all the noise in xi,
where the theory puts it. Runs are one batch of weight matrices (torch.bmm) with per-run learning
rates, thresholds and masks.
"""

from __future__ import annotations

import dataclasses
import math

import torch

from . import distribution

INIT_SEED = 7_000_000  # offset of the generator of a seed's initial weights


@dataclasses.dataclass(frozen=True)
class Setting:
    """Every setting that changes a run's numbers: the distribution, the network and the learner.

    A cached run is keyed on this (not on the chapter's whole parameter set), so a change of, say,
    the sweep's sizes leaves the main runs valid.
    """

    d: int
    p0: float
    q0: float
    gamma0: float
    zq_norm: float
    zeta_norm: float
    n_test: int
    width: int
    init_scale: float
    lr_large: float
    lr_small: float
    weight_decay: float
    grad_noise: float
    pre_noise: float
    noise_decay: float
    epsilon1: float
    epsilon2: float
    max_steps: int
    eval_every: int

    @classmethod
    def of(cls, cfg: Setting) -> Setting:
        return cls(**{f.name: getattr(cfg, f.name) for f in dataclasses.fields(cls)})


@dataclasses.dataclass(frozen=True)
class Schedule:
    """Per-run optimisation settings of one batch (tensors of shape (B,))."""

    lr_before: torch.Tensor  # learning rate until the anneal
    lr_after: torch.Tensor  # learning rate after it
    pre_noise: torch.Tensor  # pre-activation noise std until the anneal (decays after)
    anneal_loss: torch.Tensor  # anneal at the first step with train loss below this (inf: at 0)
    stop_loss: torch.Tensor  # stop once annealed and the train loss is at most this
    anneal_at: torch.Tensor  # or anneal at this step whatever the loss (-1: by the loss only)


def schedule_for(
    algorithm: str,
    cfg: Setting,
    runs: int,
    pre_noise: float | None = None,
    anneal_at: int = -1,
) -> Schedule:
    """Li, Wei & Ma's algorithms: L-S (Alg. 1), S (Alg. 2), S + noise (Sec. 5).

    `pre_noise` overrides cfg.pre_noise for S + noise (its ×0.5 and ×2 variants). `anneal_at`
    fixes S + noise's noise anneal at that step, a schedule that always fires (a loss criterion
    may never be met while the noise keeps the loss up); -1 keeps the loss criterion.
    """
    threshold = cfg.epsilon1 + cfg.q0 * math.log(2)
    noise = cfg.pre_noise if pre_noise is None else pre_noise
    lr1, noise, anneal = {
        "L-S": (cfg.lr_large, 0.0, threshold),
        "S": (cfg.lr_small, 0.0, math.inf),
        "S + noise": (cfg.lr_small, noise, threshold),
    }[algorithm]

    if anneal_at >= 0:
        if algorithm != "S + noise":
            raise ValueError(f"a fixed anneal step is S + noise's schedule, not {algorithm}'s")
        anneal = -math.inf

    def full(v: float) -> torch.Tensor:
        return torch.full((runs,), float(v))

    return Schedule(
        full(lr1),
        full(cfg.lr_small),
        full(noise),
        full(anneal),
        full(cfg.epsilon2),
        torch.full((runs,), anneal_at),
    )


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


def q_points(dist: list[distribution.Distribution]) -> torch.Tensor:
    """Inputs (0, z_q + zeta), (0, z_q - zeta), (0, z_q) of each run, shape (B, 3, 2d)."""
    d = dist[0].d
    points = torch.zeros(len(dist), 3, 2 * d)
    for b, dd in enumerate(dist):
        points[b, :, d:] = torch.stack([dd.z_q + dd.zeta, dd.z_q - dd.zeta, dd.z_q])
    return points


def q_curvature(W: torch.Tensor, points: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """|g(z_q + zeta) + g(z_q - zeta) - 2 g(z_q)| with g the net on Q-only inputs (Lemma 4.2)."""
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
    dist: list[distribution.Distribution]


def pre_noise_at(
    pre_noise: torch.Tensor, anneal_step: torch.Tensor, step: int, decay: float
) -> torch.Tensor:
    """Pre-activation noise std at `step`: constant until the anneal (anneal_step -1: not yet), then
    multiplied by `decay` per step, the annealed noise of Li, Wei & Ma (2019, Sec. 5)."""
    since = torch.where(anneal_step >= 0, step - anneal_step, 0).clamp(min=0)
    return pre_noise * decay**since


def group_train_accuracy(W: torch.Tensor, batch: Batch, u: torch.Tensor) -> dict[str, torch.Tensor]:
    """Noise-free training accuracy per group (B,), NaN where a run has no example of the group."""
    correct = (forward(W, batch.X, u) * batch.y > 0).float()
    out = {}
    for g, name in enumerate(distribution.GROUPS):
        member = (batch.group == g).float() * batch.mask
        out[f"train {name}"] = (correct * member).sum(dim=1) / member.sum(dim=1)
    return out


def initial_weights(cfg: Setting, seeds: list[int]) -> torch.Tensor:
    """U transposed at init, (runs, 2d, m), entries N(0, init_scale^2), drawn per seed: the runs
    of one seed start from the same weights whatever the algorithm (paired comparisons)."""
    return torch.stack(
        [
            cfg.init_scale
            * torch.randn(
                2 * cfg.d, cfg.width, generator=torch.Generator().manual_seed(INIT_SEED + s)
            )
            for s in seeds
        ]
    )


def group_train_loss(W: torch.Tensor, batch: Batch, u: torch.Tensor) -> dict[str, torch.Tensor]:
    """Noise-free logistic loss per training group (B,): log 2 while the net outputs zero there."""
    loss = logistic(batch.y * forward(W, batch.X, u))
    out = {}
    for g, name in enumerate(distribution.GROUPS):
        member = (batch.group == g).float() * batch.mask
        out[f"loss {name}"] = (loss * member).sum(dim=1) / member.sum(dim=1)
    return out


def sharpness(
    W: torch.Tensor, batch: Batch, u: torch.Tensor, weight_decay: float, iterations: int = 20
) -> torch.Tensor:
    """Largest Hessian eigenvalue of each run's noise-free training loss plus weight decay (B,).

    Gradient descent at step size eta is stable only while eta times this is below 2 (beyond it,
    it oscillates at the edge of stability). f is piecewise linear in U, so the Hessian is the
    positive semi-definite Gauss-Newton part and power iteration (Hessian-vector products by
    autograd; its start drawn from a generator of its own, so training draws are untouched)
    finds its top eigenvalue.
    """
    W = W.detach().requires_grad_(True)
    n = batch.mask.sum(dim=1)
    with torch.enable_grad():
        loss = (logistic(batch.y * forward(W, batch.X, u)) * batch.mask).sum(dim=1) / n
        (grad,) = torch.autograd.grad(loss.sum(), W, create_graph=True)
        v = torch.randn(W.shape, generator=torch.Generator().manual_seed(0))
        top = torch.zeros(W.shape[0])
        for _ in range(iterations):
            v = v / v.flatten(1).norm(dim=1).clamp(min=1e-30)[:, None, None]
            (hv,) = torch.autograd.grad(grad, W, grad_outputs=v, retain_graph=True)
            top = (hv * v).sum(dim=(1, 2))
            v = hv
    return top.detach() + weight_decay


def train(
    batch: Batch,
    schedule: Schedule,
    cfg: Setting,
    generator: torch.Generator,
    init: torch.Tensor,
    sharpness_every: int = 0,
) -> dict:
    """Train B runs at once; return per-run histories (lists), anneal and stop steps, final W.

    Each run uses schedule.lr_before until its full-batch train loss (without the pre-activation
    noise, so S + noise anneals by the same criterion as L-S) first drops below
    schedule.anneal_loss (L-S's epsilon1 + q0·log 2), then lr_after, with its pre-activation noise
    decaying by cfg.noise_decay per step; it stops at train loss <= stop_loss or at cfg.max_steps.
    Stopped runs are frozen while the others go on. `init` holds the initial weights (see
    `initial_weights`); `generator` draws every noise.

    With `sharpness_every` > 0 the history also records the loss per training group, and every
    evaluation at a multiple of it (and at any run's anneal step, which then is recorded too) the
    top Hessian eigenvalue (`sharpness`; NaN elsewhere): the premises' measurements. They draw
    nothing from `generator`, so the trajectory is the one recorded without them.
    """
    B = batch.X.shape[0]
    u = output_weights(cfg.width)
    W = init.clone()
    Xt = batch.X.transpose(1, 2).contiguous()
    points = q_points(batch.dist)
    n = batch.mask.sum(dim=1)
    annealed = schedule.anneal_loss == math.inf
    anneal_step = torch.where(annealed, 0, -1)
    stop_step = torch.full((B,), -1)
    keys = ("step", "train_loss", "q_curvature", *distribution.GROUPS)
    history: dict[str, list] = {k: [] for k in keys}
    history |= {f"train {g}": [] for g in distribution.GROUPS}
    if sharpness_every:
        history |= {f"loss {g}": [] for g in distribution.GROUPS} | {"sharpness": []}
    for step in range(cfg.max_steps + 1):
        pre = batch.X @ W
        margin = batch.y * (torch.relu(pre) @ u)
        loss = (logistic(margin) * batch.mask).sum(dim=1) / n  # the network's own (noise-free)
        noise_scale = pre_noise_at(schedule.pre_noise, anneal_step, step, cfg.noise_decay)
        if bool((noise_scale > 0).any()):
            pre = pre + noise_scale[:, None, None] * torch.randn(pre.shape, generator=generator)
            margin = batch.y * (torch.relu(pre) @ u)  # the gradient sees the noise
        newly = ~annealed & ((loss < schedule.anneal_loss) | (schedule.anneal_at == step))
        anneal_step = torch.where(newly, step, anneal_step)
        annealed = annealed | newly
        running = stop_step < 0
        done = running & (annealed & (loss <= schedule.stop_loss) | (step == cfg.max_steps))
        stop_step = torch.where(done, step, stop_step)
        at_anneal = bool(newly.any()) and sharpness_every > 0
        if step % cfg.eval_every == 0 or bool(done.any()) or at_anneal:
            history["step"].append(step)
            history["train_loss"].append(loss.tolist())
            history["q_curvature"].append(q_curvature(W, points, u).tolist())
            for name, (X, y) in batch.test.items():
                history[name].append(accuracy(W, X, y, u).tolist())
            for name, acc in group_train_accuracy(W, batch, u).items():
                history[name].append(acc.tolist())
            if sharpness_every:
                for name, value in group_train_loss(W, batch, u).items():
                    history[name].append(value.tolist())
                measure = step % sharpness_every == 0 or at_anneal
                top = (
                    sharpness(W, batch, u, cfg.weight_decay)
                    if measure
                    else torch.full((B,), math.nan)
                )
                history["sharpness"].append(top.tolist())
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
        "weights": W,
    }


def make_batch(
    cfg: Setting,
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
        dist = distribution.make_distribution(
            cfg.d, cfg.gamma0, cfg.zq_norm, cfg.zeta_norm, gen, p0=cfg.p0, q0=cfg.q0
        )
        X, y, group = distribution.sample(n, dist, gen)
        test = {
            name: distribution.sample(cfg.n_test, dist, gen, g)[:2]
            for g, name in enumerate(distribution.GROUPS)
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
            for name in distribution.GROUPS
        },
        dist=[r[5] for r in rows],
    )


def twin_pre_activation_noise(
    batch: Batch, schedule: Schedule, cfg: Setting, init: torch.Tensor, seed: int
) -> torch.Tensor:
    """Effective pre-activation noise that the weight noise puts on Q inputs, per run (B,).

    Each run trains twice from the same initial weights `init` on the same data; the two copies differ
    only in their gradient noise xi. After cfg.max_steps the pre-activations <U_j, x> of the two
    copies on the run's Q-only training inputs differ by sqrt(2) times the noise each carries:
    the value is the RMS over units and inputs of that difference / sqrt(2).
    """
    B = batch.X.shape[0]
    twice = Batch(
        torch.cat([batch.X, batch.X]),
        torch.cat([batch.y, batch.y]),
        torch.cat([batch.mask, batch.mask]),
        torch.cat([batch.group, batch.group]),
        {k: (torch.cat([X, X]), torch.cat([y, y])) for k, (X, y) in batch.test.items()},
        batch.dist + batch.dist,
    )
    both = cat_schedules([schedule, schedule])
    out = train(twice, both, cfg, torch.Generator().manual_seed(seed), torch.cat([init, init]))
    W = out["weights"]
    diff = batch.X @ (W[:B] - W[B:])  # (B, N, m)
    q_only = ((batch.group == 1).float() * batch.mask)[:, :, None]
    count = q_only.sum(dim=(1, 2)) * cfg.width
    return ((diff.pow(2) * q_only).sum(dim=(1, 2)) / count / 2).sqrt()
