"""Li, Wei & Ma's distribution (2019, Sec. 3): group fractions, P's margin, Q's support, labels."""

import pytest
import torch

from lrgap_nb.chapters.learning_order import distribution as synthetic


def _dist(seed: int = 0, d: int = 50):
    return synthetic.make_distribution(d, 0.1, 2.0, 0.2, torch.Generator().manual_seed(seed))


def test_group_fractions_and_label_balance():
    X, y, group = synthetic.sample(20_000, _dist(), torch.Generator().manual_seed(1))
    fractions = torch.bincount(group, minlength=3).float() / len(group)
    assert torch.allclose(fractions, torch.tensor([0.2, 0.2, 0.6]), atol=0.015)
    assert abs(float((y > 0).float().mean()) - 0.5) < 0.015
    d = X.shape[1] // 2
    assert torch.all(X[group == 0, d:] == 0) and torch.all(X[group == 1, :d] == 0)
    assert torch.all(X[group == 2, :d].norm(dim=1) > 0)


def test_p_has_margin_gamma0_along_w_star():
    dist = _dist()
    X, y, _ = synthetic.sample(5000, dist, torch.Generator().manual_seed(2), group=0)
    along = y * (X[:, : dist.d] @ dist.w_star)
    assert float(along.min()) >= dist.gamma0 - 1e-6
    # the noise orthogonal to w* keeps its N(0, I/d) variance
    ortho = X[:, : dist.d] - (X[:, : dist.d] @ dist.w_star)[:, None] * dist.w_star
    assert float(ortho.pow(2).sum(dim=1).mean()) == pytest.approx((dist.d - 1) / dist.d, rel=0.05)


def test_q_lies_on_its_three_directions():
    dist = _dist()
    X, y, _ = synthetic.sample(2000, dist, torch.Generator().manual_seed(3), group=1)
    x2 = X[:, dist.d :]
    a = (x2 @ dist.z_q) / (dist.z_q @ dist.z_q)  # zeta is orthogonal to z_q
    assert float(a.min()) >= 0 and float(a.max()) <= 1
    b = (x2 @ dist.zeta) / (dist.zeta @ dist.zeta) / a
    assert torch.allclose(b[y > 0], torch.zeros(1), atol=1e-4)
    assert torch.allclose(b[y < 0].abs(), torch.ones(1), atol=1e-4)
    assert 0.4 < float((b[y < 0] > 0).float().mean()) < 0.6
    residual = x2 - a[:, None] * dist.z_q - (a * b)[:, None] * dist.zeta
    assert float(residual.abs().max()) < 1e-5
    assert dist.zeta.norm() < dist.z_q.norm()


def test_same_seed_same_data_other_seed_other_data():
    first = synthetic.sample(100, _dist(4), torch.Generator().manual_seed(5))
    again = synthetic.sample(100, _dist(4), torch.Generator().manual_seed(5))
    other = synthetic.sample(100, _dist(4), torch.Generator().manual_seed(6))
    assert all(torch.equal(a, b) for a, b in zip(first, again, strict=True))
    assert not torch.equal(first[0], other[0])


def test_invalid_distribution_is_rejected():
    with pytest.raises(ValueError):
        synthetic.make_distribution(10, 0.1, 1.0, 2.0, torch.Generator())
    with pytest.raises(ValueError):
        synthetic.make_distribution(10, 0.1, 1.0, 0.1, torch.Generator(), p0=0.7, q0=0.5)
