import dataclasses

import numpy as np
import pandas as pd
import pytest

from lrgap_nb.chapters import chapter_config
from lrgap_nb.chapters.convex import maths as convex
from lrgap_nb.chapters.convex import runs, tables
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
    assert (summary["final train loss"] <= cfg.epsilon).all()
    assert summary.loc["large then small", "test / epsilon"] < 0.8
    assert summary.loc["small throughout", "test / epsilon"] > 1.3


def test_lr_above_the_stability_edge_diverges():
    X, y = convex.duplicated_samples(np.array([1.0, 1.0]))
    with pytest.raises(convex.Diverged):
        convex.gradient_descent(X, y, constant(1.6), epsilon=1e-3)


def test_batched_gd_equals_one_dataset_at_a_time():
    X, y, _ = convex.datasets("gaussian", n=10, repeats=4, seed=3)
    schedule = two_phase(0.1, 0.01, 10)
    batched = convex.gradient_descent(X, y, schedule, 0.1)[-1]
    for i in range(4):
        single = convex.gradient_descent(X[i], y[i], schedule, 0.1)[-1]
        np.testing.assert_allclose(batched[i], single)


@pytest.mark.parametrize("design", convex.DESIGNS)
@pytest.mark.parametrize("n", [1, 3, 10])
@pytest.mark.parametrize(("lr_large", "anneal_step"), [(0.01, 0), (0.1, 10), (0.6, 2), (1.2, 40)])
def test_the_matched_stop_hits_epsilon_on_random_datasets(design, n, lr_large, anneal_step):
    epsilon = 0.1
    X, y, _ = convex.datasets(design, n, repeats=300, seed=n)
    run = convex.matched_descent(X, y, lr_large, 0.01, anneal_step, epsilon)
    loss = convex.train_loss(run.final, X, y)
    moved = (np.mean(y**2, axis=-1) > epsilon) & ~run.diverged
    assert moved.sum() > 50
    np.testing.assert_allclose(loss[moved], epsilon, rtol=runs.TIE)
    # the anneal happens before the stop: the last step is always at the small LR
    assert np.all(run.annealed_at[moved] < run.steps[moved])
    assert np.all(run.annealed_at[moved] <= anneal_step)
    assert np.all(run.cut_short[moved] == (run.annealed_at[moved] < anneal_step))


def test_the_matched_stop_shortens_only_the_last_step():
    X, y = convex.duplicated_samples(np.array([1.0, 1.0]))
    run = convex.matched_descent(X, y, 1.4, 0.05, 4, 0.01, keep_path=True)
    plain = convex.gradient_descent(X, y, two_phase(1.4, 0.05, 4), 0.01)
    losses = convex.train_loss(run.path, X, y)
    assert losses[-1] == pytest.approx(0.01, rel=1e-12) and np.all(losses[:-1] > 0.01)
    # until the step that reaches epsilon, the path is plain gradient descent
    np.testing.assert_allclose(run.path[:-1], plain[: len(run.path) - 1])
    assert run.steps == len(run.path) - 1 and run.annealed_at == 4 and not run.cut_short


def test_a_large_step_that_would_reach_epsilon_anneals_instead():
    X, y = convex.duplicated_samples(np.array([1.0, 1.0]))
    run = convex.matched_descent(X, y, 0.7, 0.05, 1000, 0.01)
    assert run.cut_short and run.annealed_at < run.steps
    assert convex.train_loss(run.final, X, y) == pytest.approx(0.01, rel=1e-12)


def test_first_crossing_lets_large_steps_overshoot_below_epsilon():
    """The artefact of issue 25: under the first-crossing stop the large LR ends lower."""
    out = convex.stop_both("gaussian", 10, 500, 0.1, 0.01, 10, 0.1, "first crossing")
    large, small = out["train, large then small"], out["train, small throughout"]
    assert np.mean(large) < np.mean(small) - 0.005
    assert np.mean(out["large phase ran its full length"]) < 0.5  # mostly "large only"
    matched = convex.stop_both("gaussian", 10, 500, 0.1, 0.01, 10, 0.1, "matched")
    start = matched["start above epsilon"]
    for arm in ("large then small", "small throughout"):
        np.testing.assert_allclose(matched[f"train, {arm}"][start], 0.1, rtol=1e-9)


def test_order_reversed_is_the_threshold_of_the_analytic_section():
    X, _ = convex.duplicated_samples(np.array([1.0, 1.0]))  # curvatures 4/3 and 2/3
    assert not convex.order_reversed(X, 0.99) and convex.order_reversed(X, 1.01)


def test_map_cells_are_deterministic_per_seed():
    run = runs.MapRun("gaussian", 10, 200, (0.1, 0.6), (2, 10), 0.01, 0.1, seed=4)
    first, again = runs.map_payload(run), runs.map_payload(run)
    assert first == again and len(first["cells"]) == 4
    other = runs.map_payload(dataclasses.replace(run, seed=5))
    assert other != first
    for cell in first["cells"]:
        assert cell["wins"] + cell["losses"] + cell["ties"] == cell["datasets"]
        assert cell["win rate CI low"] <= cell["win rate"] <= cell["win rate CI high"]
        assert cell["difference CI low"] <= cell["mean difference"] <= cell["difference CI high"]
        assert cell["largest train-loss miss"] < 1e-9


def test_bad_design_or_stop_fails_clearly():
    with pytest.raises(ValueError, match="design must be one of"):
        convex.datasets("uniform", 3, 2, 0)
    with pytest.raises(ValueError, match="stop must be"):
        convex.stop_both("gaussian", 3, 2, 0.1, 0.01, 1, 0.1, "last")


def test_a_diverging_dataset_is_counted_and_left_out_not_fatal():
    X, y, _ = convex.datasets("gaussian", n=10, repeats=3, seed=0)
    X[1] *= 10  # curvature x100: lr 0.1 is far past this dataset's stability edge
    y = y.copy()
    y[1] = np.einsum("nd,d->n", X[1], np.ones(2))
    path = convex.gradient_descent(X, y, constant(0.1), 0.1, freeze_diverged=True)
    assert np.isnan(path[-1][1]).all() and np.isfinite(path[-1][[0, 2]]).all()
    with pytest.raises(convex.Diverged):
        convex.gradient_descent(X, y, constant(0.1), 0.1)
    run = convex.matched_descent(X, y, 0.1, 0.1, 0, 0.1)
    assert run.diverged.tolist() == [False, True, False] and np.isnan(run.final[1]).all()
    out = convex.stop_both("gaussian", 10, 2000, 1.0, 0.01, 10, 0.1, "matched")
    cell = runs.cell_summary(out, 0.1)
    assert cell["diverged"] > 0 and cell["datasets"] + cell["diverged"] == 2000


def test_map_effects_lists_the_rates_per_effect_and_the_win_rates_by_order():
    """Three cells of one design and n: helps clearly (order reversed), loses by less than the
    minimum effect (not reversed), and a cell where most datasets diverged (left out of the
    rates)."""
    cells = pd.DataFrame(
        {
            "design": "gaussian", "n": 3, "lr_large": [1.2, 0.1, 1.6], "anneal_step": 10,
            "mean difference": [0.02, -0.001, 0.5], "difference CI low": [0.01, -0.002, 0.1],
            "difference CI high": [0.03, -0.0005, 0.9], "datasets": [10, 10, 2],
            "ties": [2, 4, 0], "diverged share": [0.0, 0.0, 0.8],
            "datasets, order reversed": [10, 0, 2], "wins, order reversed": [7, 0, 2],
            "datasets, order not reversed": [0, 10, 0], "wins, order not reversed": [0, 1, 0],
        }
    )  # fmt: skip
    row = tables.map_effects(cells, min_effect=0.004).iloc[0]
    assert (row["helps at initial LR"], row["hurts at initial LR"]) == ("1.2", "none")
    assert row["loses by less than the minimum effect at"] == "0.1"
    assert row["wins by less than the minimum effect at"] == "none"
    assert row["wins where the order is reversed (%)"] == 70.0
    assert row["wins where the order is not reversed (%)"] == 10.0
    assert row["ties (%)"] == 30.0
