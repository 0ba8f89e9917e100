"""Keskar's sharpness against closed forms (a box maximum on a quadratic, also at an exact
minimum), power iteration, Hessian-vector products, the SB-LB line and BN re-estimation."""

import numpy as np
import pytest
import torch
from torch import nn

from lrgap_nb.chapters.large_batch import sharpness


def quadratic(h: torch.Tensor):
    """f(w) = 1/2 sum h_i w_i^2 with its gradient; separable, so the box maximum is a vertex."""

    def value_and_grad(w):
        return float(0.5 * (h * w * w).sum()), h * w

    return value_and_grad


def test_full_space_sharpness_of_a_quadratic_matches_the_closed_form():
    h = torch.tensor([4.0, 1.0, 0.25], dtype=torch.float64)
    x = torch.tensor([0.5, -2.0, 1.0], dtype=torch.float64)
    eps = 1e-2
    result = sharpness.keskar_sharpness(quadratic(h), x, eps)
    # Each coordinate moves outward by eps (|x_i| + 1): max = 1/2 sum h_i (|x_i| + r_i)^2.
    r = eps * (x.abs() + 1)
    fmax = float(0.5 * (h * (x.abs() + r) ** 2).sum())
    f0 = float(0.5 * (h * x * x).sum())
    assert result.fmax == pytest.approx(fmax, rel=1e-9)
    assert result.phi == pytest.approx(100 * (fmax - f0) / (1 + f0), rel=1e-7)


class Scaled(sharpness.Subspace):
    """A = 2 I: the subspace is the full space with rescaled coordinates."""

    def __init__(self, n: int):
        self.A = 2 * torch.eye(n, dtype=torch.float64)


def test_subspace_sharpness_of_a_quadratic_matches_the_closed_form():
    h = torch.tensor([2.0, 0.5], dtype=torch.float64)
    x = torch.tensor([1.0, -3.0], dtype=torch.float64)
    eps = 1e-3
    result = sharpness.keskar_sharpness(quadratic(h), x, eps, A=Scaled(2))
    centre = x / 2  # A^+ x
    reach = 2 * eps * (centre.abs() + 1)  # |A y| reach per coordinate
    fmax = float(0.5 * (h * (x.abs() + reach) ** 2).sum())
    assert result.fmax == pytest.approx(fmax, rel=1e-9)


def centred_quadratic(h: torch.Tensor, centre: torch.Tensor):
    """f(w) = 1/2 sum h_i (w_i - c_i)^2: its exact minimum is w = c, where the gradient is 0."""

    def value_and_grad(w):
        d = w - centre
        return float(0.5 * (h * d * d).sum()), h * d

    return value_and_grad


def test_sharpness_at_an_exact_minimum_reaches_the_box_maximum():
    h = torch.tensor([3.0, 1.0, 0.5, 2.0], dtype=torch.float64)
    x = torch.tensor([0.2, -1.5, 4.0, 0.0], dtype=torch.float64)
    f = centred_quadratic(h, x)
    eps = 1e-3
    r = eps * (x.abs() + 1)
    fmax = float(0.5 * (h * r * r).sum())  # any vertex of the box
    paper_start_only = sharpness.keskar_sharpness(f, x, eps, max_iter=10, starts=0)
    assert paper_start_only.phi == 0.0  # y = 0 is stationary: L-BFGS-B never leaves it
    result = sharpness.keskar_sharpness(f, x, eps, max_iter=10, starts=2)
    assert result.fmax == pytest.approx(fmax, rel=1e-9)
    assert result.phi == pytest.approx(100 * fmax, rel=1e-9)  # f(x) = 0
    assert result.grad_norm == 0.0 and result.first_order == 0.0


def test_first_order_part_of_a_linear_function_is_all_of_phi():
    g = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)
    x = torch.tensor([1.0, 0.0, -3.0], dtype=torch.float64)

    def linear(w):
        return float(g @ w), g.clone()

    result = sharpness.keskar_sharpness(linear, x, 1e-2, starts=1)
    expected = float((1e-2 * (x.abs() + 1) * g.abs()).sum())
    assert result.first_order == pytest.approx(expected, rel=1e-12)
    assert result.fmax - result.f0 == pytest.approx(expected, rel=1e-9)  # no curvature, "sharp"
    assert result.phi == pytest.approx(result.first_order_phi, rel=1e-9)
    assert result.grad_norm == pytest.approx(float(g.norm()))


def test_subspace_pseudo_inverse_matches_lstsq():
    sub = sharpness.Subspace(300, 7, seed=3)
    x = torch.randn(300)
    expected = torch.linalg.lstsq(sub.A.double(), x.double().unsqueeze(1)).solution.squeeze(1)
    np.testing.assert_allclose(sub.pinv(x, block=64), expected, rtol=1e-8, atol=1e-10)


def test_sharper_quadratic_scores_higher():
    x = torch.tensor([1.0, 1.0], dtype=torch.float64)
    flat = sharpness.keskar_sharpness(quadratic(torch.tensor([0.1, 0.1]).double()), x, 1e-3)
    sharp = sharpness.keskar_sharpness(quadratic(torch.tensor([10.0, 10.0]).double()), x, 1e-3)
    assert sharp.phi > flat.phi > 0


def test_power_iteration_finds_the_top_eigenvalue():
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.standard_normal((6, 6)))
    eigenvalues = np.array([5.0, 2.0, 1.0, 0.5, -0.5, 0.1])
    H = torch.tensor(q @ np.diag(eigenvalues) @ q.T)
    top = sharpness.top_hessian_eigenvalue(
        lambda v: H @ v, 6, iters=500, tol=1e-12, dtype=torch.float64
    )
    assert top == pytest.approx(5.0, rel=1e-6)


def tiny_model_and_data():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3)).double()
    X = torch.randn(40, 4, dtype=torch.float64)
    y = torch.randint(0, 3, (40,))
    return model, X, y


def test_model_loss_gradient_and_hvp_match_autograd():
    model, X, y = tiny_model_and_data()
    loss = sharpness.ModelLoss(model, X, y, batch_size=16)
    w = loss.vector()
    direct = nn.functional.cross_entropy(model(X), y)
    assert loss.value(w) == pytest.approx(direct.item(), rel=1e-12)
    _, grad = loss.value_and_grad(w)
    expected = torch.autograd.grad(direct, list(model.parameters()))
    np.testing.assert_allclose(grad, torch.cat([g.flatten() for g in expected]), rtol=1e-9)
    v = torch.randn_like(w)

    def full_loss(vec):
        return nn.functional.cross_entropy(
            torch.func.functional_call(model, loss._params(vec), (X,)), y
        )

    _, hv = torch.autograd.functional.hvp(full_loss, w, v)
    np.testing.assert_allclose(loss.hvp(w, v), hv, rtol=1e-8, atol=1e-12)


def test_interpolation_endpoints_reproduce_each_solution():
    model, X, y = tiny_model_and_data()
    w_a = sharpness.ModelLoss(model, X, y).vector()
    w_b = w_a + 0.1 * torch.randn_like(w_a)
    model_bn = nn.Sequential(model)  # no BatchNorm: both BN treatments agree
    table = sharpness.interpolate(model_bn, w_a, w_b, [0.0, 1.0], {"train": (X, y)}, bn="batch")
    ends = table.set_index("alpha")["loss"]
    assert ends[0.0] == pytest.approx(sharpness.ModelLoss(model, X, y).value(w_a))
    assert ends[1.0] == pytest.approx(sharpness.ModelLoss(model, X, y).value(w_b))


def test_recomputed_bn_statistics_equal_the_data_moments():
    bn = nn.BatchNorm1d(3)
    X = torch.randn(64, 3) * 2 + 5
    sharpness.recompute_bn_statistics(bn, X, batch_size=64)
    np.testing.assert_allclose(bn.running_mean, X.mean(0), rtol=1e-5)
    np.testing.assert_allclose(bn.running_var, X.var(0), rtol=1e-5)
