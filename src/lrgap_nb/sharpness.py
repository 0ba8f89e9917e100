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
            total += float(loss)
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
    iterations: int


def keskar_sharpness(
    value_and_grad: ValueAndGrad,
    x: torch.Tensor,
    epsilon: float,
    A: torch.Tensor | None = None,
    max_iter: int = 10,
) -> Sharpness:
    """phi = 100 (max_{y in C_eps} f(x + Ay) - f(x)) / (1 + f(x)) (Keskar et al. 2017, Metric 2.1).

    The box is |y_i| <= eps (|(A^+ x)_i| + 1); A = None means the full space (A = I). The maximum
    is approximated by L-BFGS-B from y = 0 with `max_iter` iterations, as in the paper.
    """
    x = x.detach()
    if A is None:
        centre = x
        lift = lambda y: y  # noqa: E731
        pull = lambda g: g  # noqa: E731
    else:
        centre = torch.linalg.lstsq(A.double(), x.double().unsqueeze(1)).solution.squeeze(1)
        lift = lambda y: A @ y  # noqa: E731
        pull = lambda g: A.T @ g  # noqa: E731
    radius = epsilon * (centre.abs().double().cpu().numpy() + 1.0)
    f0, _ = value_and_grad(x)

    def negative(y: np.ndarray) -> tuple[float, np.ndarray]:
        step = torch.as_tensor(y, dtype=x.dtype, device=x.device)
        value, grad = value_and_grad(x + lift(step))
        return -value, -pull(grad).double().cpu().numpy()

    found = minimize(
        negative,
        np.zeros(len(radius)),
        jac=True,
        method="L-BFGS-B",
        bounds=list(zip(-radius, radius, strict=True)),
        options={"maxiter": max_iter},
    )
    fmax = max(-float(found.fun), f0)
    return Sharpness(100.0 * (fmax - f0) / (1.0 + f0), f0, fmax, int(found.nit))


def random_subspace(n: int, p: int, seed: int, device: torch.device | str = "cpu") -> torch.Tensor:
    """A random n x p matrix with N(0, 1) entries (Keskar et al. use p = 100)."""
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(n, p, generator=generator).to(device)


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
) -> pd.DataFrame:
    """Loss and accuracy along w(a) = a w_LB + (1 - a) w_SB (Keskar et al. 2017, Fig. 3).

    bn="batch": BatchNorm normalises with each batch's statistics (Keskar's Keras models);
    bn="recomputed": running statistics are re-estimated on the training set at every w(a).
    """
    from .models import set_bn_mode

    model.eval()
    set_bn_mode(model, "batch" if bn == "batch" else "running")
    rows = []
    for alpha in alphas:
        w = alpha * w_large + (1.0 - alpha) * w_small
        nn.utils.vector_to_parameters(w, model.parameters())
        if bn == "recomputed":
            recompute_bn_statistics(model, sets[train_set][0])
            model.eval()
        for name, (X, y) in sets.items():
            loss = ModelLoss(model, X, y)
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
