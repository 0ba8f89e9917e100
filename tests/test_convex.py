import numpy as np
import pytest

from lrgap_nb.chapters import chapter_config
from lrgap_nb.chapters.convex import maths as convex
from lrgap_nb.chapters.convex import tables
from lrgap_nb.chapters.convex.params import BETA_STAR
from lrgap_nb.schedules import constant, two_phase


@pytest.mark.parametrize("epsilon", [1e-3, 0.1, 2.5])
@pytest.mark.parametrize("beta_star", [(1.0, 1.0), (-2.0, 0.5), (3.0, -7.0)])
@pytest.mark.parametrize("repeated", [0, 1])
def test_analytic_table_matches_closed_forms(epsilon, beta_star, repeated):
    table = convex.analytic_table(epsilon, np.array(beta_star), repeated)
    np.testing.assert_allclose(table["train loss"], [epsilon, epsilon])
    np.testing.assert_allclose(table["test loss"], [0.75 * epsilon, 1.5 * epsilon])


def test_train_loss_of_duplicated_samples_is_the_weighted_form():
    rng = np.random.default_rng(0)
    beta_star, beta = rng.standard_normal(2), rng.standard_normal((5, 2))
    X, y = convex.duplicated_samples(beta_star, repeated=0)
    expected = 2 / 3 * (beta[:, 0] - beta_star[0]) ** 2 + 1 / 3 * (beta[:, 1] - beta_star[1]) ** 2
    np.testing.assert_allclose(convex.train_loss(beta, X, y), expected)


def test_population_loss_is_the_average_over_both_points():
    rng = np.random.default_rng(1)
    beta_star, beta = rng.standard_normal(2), rng.standard_normal(2)
    X = np.eye(2)
    np.testing.assert_allclose(
        convex.population_loss(beta, beta_star), convex.train_loss(beta, X, X @ beta_star)
    )


def test_gd_stops_at_the_first_step_below_epsilon():
    X, y = convex.duplicated_samples(np.array([1.0, 1.0]))
    path = convex.gradient_descent(X, y, constant(0.05), epsilon=0.01)
    losses = convex.train_loss(path, X, y)
    assert losses[-1] <= 0.01 < losses[-2]


def test_gd_matches_the_closed_form_contraction():
    # On diag(4/3, 2/3) each coordinate's error shrinks by (1 - lr * h) per step.
    X, y = convex.duplicated_samples(np.array([1.0, 1.0]))
    path = convex.gradient_descent(X, y, constant(0.3), epsilon=1e-6)
    k = 5
    np.testing.assert_allclose(1 - path[k], [(1 - 0.3 * 4 / 3) ** k, (1 - 0.3 * 2 / 3) ** k])


def test_schedules_reach_the_two_analytic_points():
    cfg = chapter_config("convex", "smoke")
    X, y = convex.two_point_samples(cfg.n_samples, cfg.seed, BETA_STAR)
    summary = tables.path_summary(
        convex.demo_paths(cfg, BETA_STAR), X, y, BETA_STAR, cfg.epsilon
    ).set_index("schedule")
    # Both stop just under epsilon; test loss near 0.75 eps versus near 1.5 eps.
    assert (summary["train loss"] <= cfg.epsilon).all()
    assert summary.loc["large then small", "test / epsilon"] < 0.8
    assert summary.loc["small throughout", "test / epsilon"] > 1.3


def test_lr_above_the_stability_edge_diverges():
    X, y = convex.duplicated_samples(np.array([1.0, 1.0]))
    with pytest.raises(convex.Diverged):
        convex.gradient_descent(X, y, constant(1.6), epsilon=1e-3)


def test_batched_gd_equals_one_dataset_at_a_time():
    X, y, _ = convex.gaussian_datasets(n=10, repeats=4, seed=3)
    schedule = two_phase(0.1, 0.01, 10)
    batched = convex.gradient_descent(X, y, schedule, 0.1)[-1]
    for i in range(4):
        single = convex.gradient_descent(X[i], y[i], schedule, 0.1)[-1]
        np.testing.assert_allclose(batched[i], single)


def test_gaussian_experiment_is_reproducible_and_summary_consistent():
    a = convex.gaussian_experiment(10, 50, 0.1, 0.01, 10, 0.1, seed=5)
    b = convex.gaussian_experiment(10, 50, 0.1, 0.01, 10, 0.1, seed=5)
    assert a.equals(b)
    summary = tables.summarise_difference(a)
    diff = a["small throughout"] - a["large then small"]
    assert summary["mean difference"] == pytest.approx(diff.mean())
    assert summary["difference CI low"] <= diff.mean() <= summary["difference CI high"]
    assert summary["win rate of large then small"] == pytest.approx((diff > 0).mean())


def test_a_diverging_dataset_is_counted_and_left_out_not_fatal():
    X, y, _ = convex.gaussian_datasets(n=10, repeats=3, seed=0)
    X[1] *= 10  # curvature x100: lr 0.1 is far past this dataset's stability edge
    y = y.copy()
    y[1] = np.einsum("nd,d->n", X[1], np.ones(2))
    path = convex.gradient_descent(X, y, constant(0.1), 0.1, freeze_diverged=True)
    assert np.isnan(path[-1][1]).all() and np.isfinite(path[-1][[0, 2]]).all()
    with pytest.raises(convex.Diverged):
        convex.gradient_descent(X, y, constant(0.1), 0.1)
    rmse = convex.gaussian_experiment(10, 2000, 0.6, 0.01, 10, 0.1, seed=0)
    summary = tables.summarise_difference(rmse)
    assert summary["datasets"] + summary["diverged datasets (left out)"] == 2000
