"""The convex 2-D linear-regression argument of the survey report (section 4), computed exactly.

x is uniform on {e1, e2}, y = <beta*, x>. With n samples the train loss weighs each coordinate by
the fraction of samples on it, while the population loss weighs both by 1/2; so points with the
same train loss can have different test losses, and the learning-rate schedule decides which one
early-stopped gradient descent reaches. This module is the reference the in-browser explorer's
JavaScript is tested against.
"""

from __future__ import annotations

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
    """Mean squared error over the samples; beta may carry leading batch dimensions (..., 2)."""
    residual = beta @ X.T - y
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


# --- the survey report's Gaussian experiment ------------------------------------------------


def gaussian_datasets(n: int, repeats: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`repeats` datasets of n examples, x ~ N(0, I_2), beta* ~ N(0, I_2), y = <beta*, x>."""
    rng = np.random.default_rng(seed)
    beta_star = rng.standard_normal((repeats, 2))
    X = rng.standard_normal((repeats, n, 2))
    return X, np.einsum("rnd,rd->rn", X, beta_star), beta_star


def gaussian_experiment(
    n: int,
    repeats: int,
    lr_large: float,
    lr_small: float,
    anneal_step: int,
    epsilon: float,
    seed: int = 0,
) -> pd.DataFrame:
    """Test RMSE, ||beta − beta*|| (the population RMSE for x ~ N(0, I)), of both schedules.

    A dataset on which a schedule diverges gets RMSE NaN (counted, then left out of summaries).
    """
    X, y, beta_star = gaussian_datasets(n, repeats, seed)
    rmse = {}
    for name, schedule in schedules_for(lr_large, lr_small, anneal_step).items():
        final = gradient_descent(X, y, schedule, epsilon, freeze_diverged=True)[-1]
        rmse[name] = np.linalg.norm(final - beta_star, axis=-1)
    return pd.DataFrame({"dataset": np.arange(repeats), **rmse})
