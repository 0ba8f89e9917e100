"""Li, Wei & Ma's two-pattern distribution (NeurIPS 2019, Sec. 3): P is hard to generalise and
easy to fit, Q is easy to generalise and hard to fit.

y is uniform on {-1, +1} and x = (x1, x2) in R^(2d). With probability p0 only x1 ~ P_y is present,
with probability q0 only x2 ~ Q_y, otherwise both. Every draw takes an explicit torch.Generator,
so a seed fixes the directions and the samples.
"""

from __future__ import annotations

import dataclasses

import torch

GROUPS = ("P only", "Q only", "both")  # group index 0, 1, 2


@dataclasses.dataclass(frozen=True)
class Distribution:
    """The distribution's constants and its three fixed directions w*, z_q, zeta (all in R^d)."""

    w_star: torch.Tensor  # unit vector of P's margin
    z_q: torch.Tensor  # Q's positive direction
    zeta: torch.Tensor  # Q's small offset: negatives lie on z_q ± zeta
    gamma0: float  # P's margin along w*
    p0: float  # probability of a P-only example
    q0: float  # probability of a Q-only example

    @property
    def d(self) -> int:
        return self.w_star.numel()


def make_distribution(
    d: int,
    gamma0: float,
    zq_norm: float,
    zeta_norm: float,
    generator: torch.Generator,
    p0: float = 0.2,
    q0: float = 0.2,
) -> Distribution:
    """Draw w*, z_q and zeta at random; zeta is orthogonal to z_q, with ||zeta|| << ||z_q||."""
    if not (p0 >= 0 and q0 >= 0 and p0 + q0 <= 1):
        raise ValueError(f"need p0, q0 >= 0 and p0 + q0 <= 1, got {p0}, {q0}")
    if not 0 < zeta_norm < zq_norm:
        raise ValueError(f"need 0 < zeta_norm < zq_norm, got {zeta_norm}, {zq_norm}")
    w_star, z_q, zeta = torch.randn(3, d, generator=generator)
    w_star = w_star / w_star.norm()
    z_q = zq_norm * z_q / z_q.norm()
    zeta = zeta - (zeta @ z_q) / (z_q @ z_q) * z_q
    zeta = zeta_norm * zeta / zeta.norm()
    return Distribution(w_star, z_q, zeta, gamma0, p0, q0)


def sample_p(y: torch.Tensor, dist: Distribution, generator: torch.Generator) -> torch.Tensor:
    """x1 = y·gamma0·w* + z, z ~ N(0, I/d) conditioned on y·<w*, z> >= 0 (half-Gaussians)."""
    z = torch.randn(len(y), dist.d, generator=generator) / dist.d**0.5
    along = z @ dist.w_star
    z = z + (y * along.abs() - along)[:, None] * dist.w_star  # reflect into the y half-space
    return (y * dist.gamma0)[:, None] * dist.w_star + z


def sample_q(y: torch.Tensor, dist: Distribution, generator: torch.Generator) -> torch.Tensor:
    """x2 = a·z_q for y = +1 and a·(z_q + b·zeta) for y = -1, a ~ U[0, 1], b uniform on {-1, +1}."""
    a = torch.rand(len(y), generator=generator)
    b = 2.0 * torch.randint(0, 2, (len(y),), generator=generator) - 1.0
    offset = torch.where(y < 0, b, torch.zeros_like(b))
    return a[:, None] * (dist.z_q + offset[:, None] * dist.zeta)


def sample(
    n: int, dist: Distribution, generator: torch.Generator, group: int | None = None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """n examples (X of shape (n, 2d), y in {-1, +1}, group in {0, 1, 2}).

    `group=None` draws the mixture (p0, q0, 1 - p0 - q0); an integer draws one group only, for the
    per-group test sets.
    """
    y = 2.0 * torch.randint(0, 2, (n,), generator=generator) - 1.0
    if group is None:
        u = torch.rand(n, generator=generator)
        groups = (u >= dist.p0).long() + (u >= dist.p0 + dist.q0).long()  # 0, 1 or 2
    else:
        groups = torch.full((n,), group, dtype=torch.long)
    x1 = sample_p(y, dist, generator) * (groups != 1)[:, None]
    x2 = sample_q(y, dist, generator) * (groups != 0)[:, None]
    return torch.cat([x1, x2], dim=1), y, groups
