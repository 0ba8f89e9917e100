"""How sharp is a minimum: Keskar's box sensitivity, the top Hessian eigenvalue, and the loss
along the line between two solutions.

All three work on a flat parameter vector, so they apply to any model: `ModelLoss` turns a model
and a dataset into loss, gradient and Hessian-vector products of that vector. The model is
evaluated as it is set up by the caller (eval mode, BatchNorm in "batch" or "running" mode).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
import torch
from scipy.optimize import minimize
from torch import nn
from torch.func import functional_call

ValueAndGrad = Callable[[torch.Tensor], tuple[float, torch.Tensor]]


class ModelLoss:
    """Mean cross-entropy of `model` over (X, y) as a function of a flat parameter vector."""

    def __init__(self, model: nn.Module, X: torch.Tensor, y: torch.Tensor, batch_size: int = 1024):
        self.model = model
        self.names = [n for n, _ in model.named_parameters()]
        self.shapes = [p.shape for _, p in model.named_parameters()]
        # Buffers are passed explicitly (cloned), so evaluating never moves running statistics.
        self.buffers = {n: b.clone() for n, b in model.named_buffers()}
        self.batches = list(zip(X.split(batch_size), y.split(batch_size), strict=True))
        self.n = len(y)

    def vector(self) -> torch.Tensor:
        return nn.utils.parameters_to_vector(self.model.parameters()).detach()

    def _params(self, vector: torch.Tensor) -> dict[str, torch.Tensor]:
        chunks = vector.split([int(np.prod(s)) for s in self.shapes])
        return {n: c.view(s) for n, c, s in zip(self.names, chunks, self.shapes, strict=True)}

    def _batch_loss(self, vector: torch.Tensor, xb: torch.Tensor, yb: torch.Tensor):
        logits = functional_call(self.model, {**self._params(vector), **self.buffers}, (xb,))
        return nn.functional.cross_entropy(logits, yb, reduction="sum") / self.n, logits

    def value(self, vector: torch.Tensor) -> float:
        with torch.no_grad():
            return float(sum(self._batch_loss(vector, xb, yb)[0] for xb, yb in self.batches))

    def accuracy(self, vector: torch.Tensor) -> float:
        with torch.no_grad():
            correct = sum(
                (self._batch_loss(vector, xb, yb)[1].argmax(1) == yb).sum().item()
                for xb, yb in self.batches
            )
        return correct / self.n

    def value_and_grad(self, vector: torch.Tensor) -> tuple[float, torch.Tensor]:
        vector = vector.detach().requires_grad_(True)
        total, grad = 0.0, torch.zeros_like(vector)
        for xb, yb in self.batches:
            loss, _ = self._batch_loss(vector, xb, yb)
            grad += torch.autograd.grad(loss, vector)[0]
            total += float(loss.detach())
        return total, grad

    def hvp(self, vector: torch.Tensor, direction: torch.Tensor) -> torch.Tensor:
        """Hessian-vector product by double backward, accumulated over batches."""
        vector = vector.detach().requires_grad_(True)
        out = torch.zeros_like(vector)
        for xb, yb in self.batches:
            loss, _ = self._batch_loss(vector, xb, yb)
            (grad,) = torch.autograd.grad(loss, vector, create_graph=True)
            out += torch.autograd.grad(grad @ direction, vector)[0]
        return out


@dataclasses.dataclass(frozen=True)
class Sharpness:
    phi: float  # Keskar's sensitivity, in percent
    f0: float  # loss at the solution
    fmax: float  # largest loss found in the box
    iterations: int  # L-BFGS-B iterations, summed over starts
    first_order: float  # eps-box maximum of the linearisation: sum_i r_i |(A^T g)_i|
    first_order_phi: float  # the same in phi's units: 100 first_order / (1 + f0)
    grad_norm: float  # ||grad f(x)|| in the full space


class Subspace:
    """A random n x k matrix A with N(0, 1) entries (Keskar et al. use k = 100), kept in float32.

    A^+ x comes from the normal equations in float64, accumulated over row blocks, so a network of
    1.5 million weights needs A (600 MB) and no n x k float64 copy.
    """

    def __init__(self, n: int, k: int, seed: int, device: torch.device | str = "cpu"):
        generator = torch.Generator().manual_seed(seed)
        self.A = torch.randn(n, k, generator=generator).to(device)

    def pinv(self, x: torch.Tensor, block: int = 1 << 16) -> torch.Tensor:
        k = self.A.shape[1]
        gram = torch.zeros(k, k, dtype=torch.float64, device=self.A.device)
        rhs = torch.zeros(k, dtype=torch.float64, device=self.A.device)
        for rows, xs in zip(self.A.split(block), x.split(block), strict=True):
            rows = rows.double()
            gram += rows.T @ rows
            rhs += rows.T @ xs.double()
        return torch.linalg.solve(gram, rhs)


def box_starts(radius: np.ndarray, starts: int, seed: int) -> list[np.ndarray]:
    """y = 0 (the paper's start) and `starts` points halfway to random vertices of the box.

    At an exact critical point the gradient at y = 0 vanishes and L-BFGS-B stops there; from
    inside the box it climbs towards the vertices.
    """
    rng = np.random.default_rng(seed)
    signs = [rng.choice([-1.0, 1.0], size=len(radius)) for _ in range(starts)]
    return [np.zeros(len(radius)), *(0.5 * radius * s for s in signs)]


def keskar_sharpness(
    value_and_grad: ValueAndGrad,
    x: torch.Tensor,
    epsilon: float,
    A: Subspace | None = None,
    max_iter: int = 10,
    starts: int = 0,
    seed: int = 0,
) -> Sharpness:
    """phi = 100 (max_{y in C_eps} f(x + Ay) - f(x)) / (1 + f(x)) (Keskar et al. 2017, Metric 2.1).

    The box is |y_i| <= eps (|(A^+ x)_i| + 1); A = None means the full space (A = I). The maximum
    is approximated by L-BFGS-B with `max_iter` iterations from y = 0, as in the paper, and from
    `starts` further points inside the box (`box_starts`); the largest value found counts.
    """
    x = x.detach()
    if A is None:
        centre = x
        lift = lambda y: y  # noqa: E731
        pull = lambda g: g  # noqa: E731
    else:
        centre = A.pinv(x)
        lift = lambda y: A.A @ y  # noqa: E731
        pull = lambda g: A.A.T @ g  # noqa: E731
    radius = epsilon * (centre.abs().double().cpu().numpy() + 1.0)
    f0, g0 = value_and_grad(x)
    first_order = float(radius @ pull(g0).abs().double().cpu().numpy())

    def negative(y: np.ndarray) -> tuple[float, np.ndarray]:
        step = torch.as_tensor(y, dtype=x.dtype, device=x.device)
        value, grad = value_and_grad(x + lift(step))
        return -value, -pull(grad).double().cpu().numpy()

    fmax, iterations = f0, 0
    for y0 in box_starts(radius, starts, seed):
        found = minimize(
            negative,
            y0,
            jac=True,
            method="L-BFGS-B",
            bounds=list(zip(-radius, radius, strict=True)),
            options={"maxiter": max_iter},
        )
        fmax, iterations = max(fmax, -float(found.fun)), iterations + int(found.nit)
    return Sharpness(
        phi=100.0 * (fmax - f0) / (1.0 + f0),
        f0=f0,
        fmax=fmax,
        iterations=iterations,
        first_order=first_order,
        first_order_phi=100.0 * first_order / (1.0 + f0),
        grad_norm=float(g0.norm()),
    )


def top_hessian_eigenvalue(
    hvp: Callable[[torch.Tensor], torch.Tensor],
    n: int,
    iters: int = 50,
    tol: float = 1e-4,
    seed: int = 0,
    device: torch.device | str = "cpu",
    dtype: torch.dtype = torch.float32,
) -> float:
    """Largest-magnitude Hessian eigenvalue by power iteration on Hessian-vector products."""
    generator = torch.Generator().manual_seed(seed)
    v = torch.randn(n, generator=generator, dtype=dtype).to(device)
    v /= v.norm()
    eigenvalue = 0.0
    for _ in range(iters):
        hv = hvp(v)
        new = float(v @ hv)
        v = hv / hv.norm()
        if abs(new - eigenvalue) <= tol * abs(new):
            return new
        eigenvalue = new
    return eigenvalue


def recompute_bn_statistics(model: nn.Module, X: torch.Tensor, batch_size: int = 1024) -> None:
    """Reset BatchNorm running statistics and re-estimate them from X (cumulative average)."""
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None
    was_training = model.training
    model.train()
    with torch.no_grad():
        for xb in X.split(batch_size):
            model(xb)
    model.train(was_training)


def interpolate(
    model: nn.Module,
    w_small: torch.Tensor,
    w_large: torch.Tensor,
    alphas: Sequence[float],
    sets: dict[str, tuple[torch.Tensor, torch.Tensor]],
    bn: str,
    train_set: str = "train",
    batch_size: int = 1024,
) -> pd.DataFrame:
    """Loss and accuracy along w(a) = a w_LB + (1 - a) w_SB (Keskar et al. 2017, Fig. 3).

    bn="batch": BatchNorm normalises with the statistics of each evaluation batch of `batch_size`
    examples (Keras "mode 2", as in Keskar's models); bn="recomputed": running statistics are
    re-estimated on the training set at every w(a) and held fixed.
    """
    from lrgap_nb.models import set_bn_mode

    model.eval()
    set_bn_mode(model, "batch" if bn == "batch" else "running")
    rows = []
    for alpha in alphas:
        w = alpha * w_large + (1.0 - alpha) * w_small
        nn.utils.vector_to_parameters(w, model.parameters())
        if bn == "recomputed":
            recompute_bn_statistics(model, sets[train_set][0], batch_size)
            model.eval()
        for name, (X, y) in sets.items():
            loss = ModelLoss(model, X, y, batch_size)
            rows.append(
                {
                    "alpha": float(alpha),
                    "set": name,
                    "loss": loss.value(w),
                    "accuracy": loss.accuracy(w),
                    "bn": bn,
                }
            )
    return pd.DataFrame(rows)
