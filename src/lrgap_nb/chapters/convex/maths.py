"""The convex 2-D linear-regression argument of the survey report (section 4), computed exactly.

x is uniform on {e1, e2}, y = <beta*, x>. With n samples the train loss weighs each coordinate by
the fraction of samples on it, while the population loss weighs both by 1/2; so points with the
same train loss can have different test losses, and the learning-rate schedule decides which one
early-stopped gradient descent reaches. This module is the reference the in-browser explorer's
JavaScript is tested against.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import numpy as np
import pandas as pd

from lrgap_nb.schedules import Schedule, constant, two_phase

from .params import ConvexParams

# --- the two-point problem -------------------------------------------------------------------


_UINT32 = 0xFFFFFFFF


def mulberry32(seed: int) -> Iterator[int]:
    """Mulberry32 (Tommy Ettinger, public domain): uint32 draws, as `mulberry32` in explorer.js."""
    a = seed & _UINT32
    while True:
        a = (a + 0x6D2B79F5) & _UINT32
        t = ((a ^ (a >> 15)) * (1 | a)) & _UINT32
        t = ((t + (((t ^ (t >> 7)) * (61 | t)) & _UINT32)) & _UINT32) ^ t
        yield (t ^ (t >> 14)) & _UINT32


def sample_coords(n: int, seed: int) -> list[int]:
    """The coordinate of each sample (0: x = e1, 1: x = e2), the top bit of one draw each."""
    draws = mulberry32(seed)
    return [next(draws) >> 31 for _ in range(n)]


def two_point_samples(n: int, seed: int, beta_star: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """n samples with x uniform on {e1, e2} (mulberry32, as the explorer's JS) and y = <beta*, x>."""
    X = np.eye(2)[sample_coords(n, seed)]
    return X, X @ beta_star


def duplicated_samples(beta_star: np.ndarray, repeated: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The report's case: two of the three samples share x = e_repeated."""
    other = 1 - repeated
    X = np.eye(2)[[repeated, repeated, other]]
    return X, X @ beta_star


def train_loss(beta: np.ndarray, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Mean squared error over the samples; beta, X and y may carry leading batch dimensions."""
    residual = (np.asarray(X) @ np.asarray(beta)[..., None])[..., 0] - y
    return np.mean(residual**2, axis=-1)


def population_loss(beta: np.ndarray, beta_star: np.ndarray) -> np.ndarray:
    """E over x uniform on {e1, e2}: (1/2)·||beta − beta*||² (survey report, section 4.2)."""
    return 0.5 * np.sum((beta - beta_star) ** 2, axis=-1)


def analytic_table(epsilon: float, beta_star: np.ndarray, repeated: int = 0) -> pd.DataFrame:
    """Two minimisers with train loss epsilon: all error on the repeated or on the single coordinate.

    With weights 2/3 (repeated) and 1/3 (single), the test losses are 0.75·eps and 1.5·eps.
    """
    X, y = duplicated_samples(beta_star, repeated)
    weights = np.mean(X, axis=0)  # fraction of samples on each coordinate
    other = 1 - repeated
    rows = []
    for label, coord in (("error on the repeated x", repeated), ("error on the single x", other)):
        beta = beta_star.astype(float).copy()
        beta[coord] += np.sqrt(epsilon / weights[coord])  # weight · offset² = epsilon
        test = float(population_loss(beta, beta_star))
        rows.append(
            {
                "case": label,
                "beta_1": beta[0],
                "beta_2": beta[1],
                "train loss": float(train_loss(beta, X, y)),
                "test loss": test,
                "test / epsilon": test / epsilon,
            }
        )
    return pd.DataFrame(rows)


# --- gradient descent ---------------------------------------------------------------------------


class Diverged(RuntimeError):
    """GD with this learning rate left every bounded region (lr above 2 / largest curvature)."""


def gradient_descent(
    X: np.ndarray,
    y: np.ndarray,
    schedule: Schedule,
    epsilon: float,
    max_steps: int = 100_000,
    freeze_diverged: bool = False,
) -> np.ndarray:
    """GD on the train MSE from beta = 0, stopped when the train loss first reaches epsilon.

    X, y may carry a leading batch dimension (many datasets at once); returns the path, shape
    (steps + 1, ..., d), with each dataset frozen once it has stopped. A diverging dataset raises
    Diverged, or with `freeze_diverged` is set to NaN and left out while the others go on.
    """
    X, y = np.asarray(X, float), np.asarray(y, float)
    n = X.shape[-2]
    beta = np.zeros(X.shape[:-2] + (X.shape[-1],))
    path = [beta.copy()]
    for step in range(max_steps):
        residual = np.einsum("...nd,...d->...n", X, beta) - y
        with np.errstate(over="ignore", invalid="ignore"):
            blown = ~np.all(np.abs(residual) <= 1e6, axis=-1) & ~np.all(np.isnan(beta), axis=-1)
            active = np.mean(residual**2, axis=-1) > epsilon
        if np.any(blown):
            if not freeze_diverged:
                raise Diverged(f"GD diverged at step {step} (learning rate {schedule(step)})")
            beta = np.where(blown[..., None], np.nan, beta)
            path[-1] = beta.copy()  # the step that blew up ends as NaN, not as a huge number
            active = active & ~blown
        if not np.any(active):
            break
        grad = 2.0 / n * np.einsum("...nd,...n->...d", X, residual)
        beta = beta - schedule(step) * grad * active[..., None]
        path.append(beta.copy())
    else:
        raise RuntimeError(f"GD did not reach train loss {epsilon} in {max_steps} steps")
    return np.stack(path)


def schedules_for(lr_large: float, lr_small: float, anneal_step: int) -> dict[str, Schedule]:
    return {
        "large then small": two_phase(lr_large, lr_small, anneal_step),
        "small throughout": constant(lr_small),
    }


def demo_paths(cfg: ConvexParams, beta_star: np.ndarray) -> dict[str, np.ndarray]:
    """The two GD paths of the contour figure for the demo's samples."""
    X, y = two_point_samples(cfg.n_samples, cfg.seed, beta_star)
    return {
        name: gradient_descent(X, y, schedule, cfg.epsilon)
        for name, schedule in schedules_for(cfg.lr_large, cfg.lr_small, cfg.anneal_step).items()
    }


# --- the matched-loss protocol ----------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class MatchedStop:
    """Where matched-loss gradient descent stopped, per dataset (leading batch dimensions)."""

    path: np.ndarray  # (steps + 1, ..., d); only the start and the end unless the path was kept
    steps: np.ndarray  # GD steps taken (the last one shortened to land on epsilon)
    annealed_at: np.ndarray  # step at which the small LR took over (0 for "small throughout")
    cut_short: np.ndarray  # the large phase ended early: one more large step would reach epsilon
    diverged: np.ndarray

    @property
    def final(self) -> np.ndarray:
        return self.path[-1]


def matched_descent(
    X: np.ndarray,
    y: np.ndarray,
    lr_large: float,
    lr_small: float,
    anneal_step: int,
    epsilon: float,
    max_steps: int = 200_000,
    keep_path: bool = False,
) -> MatchedStop:
    """GD from beta = 0 that stops at train loss exactly epsilon, with the anneal before the stop.

    The large LR lasts `anneal_step` steps, or less: when one more large step would reach
    epsilon the small LR takes over at once, so the large phase never ends the run. The step
    that would reach epsilon is shortened by an exact line search on the quadratic (the smaller
    root of L(beta − a·g) = epsilon), so neither schedule overshoots below epsilon. A dataset
    whose loss starts at or below epsilon stops at beta = 0. Divergence (a residual beyond 1e6)
    sets that dataset to NaN; the others go on. "Small throughout" is lr_large = lr_small.
    """
    X, y = np.asarray(X, float), np.asarray(y, float)
    batch, (n, d) = X.shape[:-2], X.shape[-2:]
    Xf, yf = X.reshape(-1, n, d), y.reshape(-1, n)
    count = len(Xf)
    beta = np.zeros((count, d))
    steps = np.zeros(count, int)
    annealed_at = np.full(count, -1)
    cut_short = np.zeros(count, bool)
    diverged = np.zeros(count, bool)
    active = np.arange(count)
    path = [beta.copy()]
    step = 0
    while len(active):
        if step >= max_steps:
            raise RuntimeError(f"GD did not reach train loss {epsilon} in {max_steps} steps")
        Xa, ya, b = Xf[active], yf[active], beta[active]
        residual = np.einsum("and,ad->an", Xa, b) - ya
        with np.errstate(over="ignore", invalid="ignore"):
            blown = ~np.all(np.abs(residual) <= 1e6, axis=-1)
        loss = np.mean(residual**2, axis=-1)
        done = ~blown & (loss <= epsilon)  # only at step 0: later steps stop on epsilon
        grad = 2.0 / n * np.einsum("and,an->ad", Xa, residual)
        curvature = np.sum(np.einsum("and,ad->an", Xa, grad) ** 2, axis=-1) / n  # a in L(α)
        slope = np.sum(grad**2, axis=-1)  # b in L(α) = loss − α·b + α²·a
        along = (loss, slope, curvature)
        large = (annealed_at[active] < 0) & (step < anneal_step)
        early = large & (_loss_after(*along, lr_large) <= epsilon)
        large &= ~early
        cut_short[active[early]] = True
        annealed_at[active[(annealed_at[active] < 0) & ~large]] = step
        lr = np.where(large, lr_large, lr_small)
        last = (_loss_after(*along, lr) <= epsilon) & ~done & ~blown
        with np.errstate(invalid="ignore", divide="ignore"):
            root = (
                2
                * (loss - epsilon)
                / (slope + np.sqrt(np.maximum(slope**2 - 4 * curvature * (loss - epsilon), 0)))
            )
        rate = np.where(last, root, lr)
        moving = ~done & ~blown
        beta[active[moving]] = b[moving] - rate[moving, None] * grad[moving]
        beta[active[blown]] = np.nan
        diverged[active[blown]] = True
        steps[active[moving]] += 1
        active = active[moving & ~last]
        step += 1
        if keep_path:
            path[-1][~np.isfinite(beta).all(axis=-1)] = np.nan  # a blown step ends as NaN
            if moving.any():
                path.append(beta.copy())
    if not keep_path:
        path.append(beta)
    annealed_at[annealed_at < 0] = 0  # stopped at beta = 0 or diverged before any anneal
    out = np.stack(path).reshape(len(path), *batch, d)
    return MatchedStop(out, *(a.reshape(batch) for a in (steps, annealed_at, cut_short, diverged)))


def _loss_after(loss, slope, curvature, rate):
    """Train loss after a GD step of size `rate`: exact on the quadratic, L(α) = L − α·b + α²·a."""
    return loss - rate * slope + rate**2 * curvature


def order_reversed(X: np.ndarray, lr: float) -> np.ndarray:
    """Whether `lr` shrinks the error along the flattest direction of the train loss faster than
    along the steepest: |1 − lr·λ_max| > |1 − lr·λ_min|, i.e. lr > 2 / (λ_max + λ_min) of the
    train Hessian 2·XᵀX / n. The flattest direction is the under-sampled one."""
    n = np.asarray(X).shape[-2]
    eig = np.linalg.eigvalsh(2.0 / n * np.einsum("...nd,...ne->...de", X, X))
    return lr > 2.0 / (eig[..., 0] + eig[..., -1])


# --- many datasets: the survey report's Gaussian experiment and the analytic section's sampling --

DESIGNS = ("gaussian", "two-point")  # x ~ N(0, I_2), or x uniform on {e1, e2} (section 4.2)


def datasets(
    design: str, n: int, repeats: int, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`repeats` datasets of n examples, beta* ~ N(0, I_2) each, y = <beta*, x> without noise."""
    if design not in DESIGNS:
        raise ValueError(f"design must be one of {DESIGNS}, got {design!r}")
    rng = np.random.default_rng(seed)
    beta_star = rng.standard_normal((repeats, 2))
    if design == "gaussian":
        X = rng.standard_normal((repeats, n, 2))
    else:
        X = np.eye(2)[rng.integers(0, 2, size=(repeats, n))]
    return X, np.einsum("rnd,rd->rn", X, beta_star), beta_star


def test_rmse(beta: np.ndarray, beta_star: np.ndarray, design: str) -> np.ndarray:
    """Population RMSE: ||beta − beta*|| for x ~ N(0, I_2), sqrt(L_D) for x uniform on {e1, e2}."""
    if design == "gaussian":
        return np.linalg.norm(beta - beta_star, axis=-1)
    return np.sqrt(population_loss(beta, beta_star))


def stop_both(
    design: str,
    n: int,
    repeats: int,
    lr_large: float,
    lr_small: float,
    anneal_step: int,
    epsilon: float,
    stop: str,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """Both schedules on the same datasets, per dataset: test RMSE and final train loss of each,
    whether "large then small" annealed before its stop, and whether its large LR reverses the
    order in which the two directions are fitted (`order_reversed`).

    `stop` is "first crossing" (the first step with train loss at most epsilon, as the survey
    report describes) or "matched" (`matched_descent`: exactly epsilon, the anneal first).
    A dataset on which a schedule diverges gets NaN for that schedule.
    """
    X, y, beta_star = datasets(design, n, repeats, seed)
    out = {"order reversed": order_reversed(X, lr_large)}
    for name, schedule in schedules_for(lr_large, lr_small, anneal_step).items():
        if stop == "matched":
            is_large = name == "large then small"
            run = matched_descent(
                X, y, lr_large if is_large else lr_small, lr_small, anneal_step if is_large else 0,
                epsilon,
            )  # fmt: skip
            final, annealed = run.final, ~run.cut_short & (run.steps > 0)
        elif stop == "first crossing":
            path = gradient_descent(X, y, schedule, epsilon, freeze_diverged=True)
            final = path[-1]
            moved = np.any(np.diff(path, axis=0) != 0, axis=-1).sum(axis=0)  # steps per dataset
            annealed = moved > anneal_step
        else:
            raise ValueError(f"stop must be 'first crossing' or 'matched', got {stop!r}")
        out[f"rmse, {name}"] = test_rmse(final, beta_star, design)
        out[f"train, {name}"] = train_loss(final, X, y)
        if name == "large then small":
            out["large phase ran its full length"] = annealed
    out["start above epsilon"] = np.mean(y**2, axis=-1) > epsilon
    return out
