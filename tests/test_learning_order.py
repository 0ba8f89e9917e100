"""The learning-order chapter: the batched learner (Li, Wei & Ma 2019, Alg. 1-2, Sec. 5), its
cached units, and the statements' verdicts."""

import dataclasses
import io
import math

import numpy as np
import pandas as pd
import pytest
import torch

import lrgap_nb as lg
from lrgap_nb import stats, sweep
from lrgap_nb.chapters.learning_order import claims as lc
from lrgap_nb.chapters.learning_order import (
    distribution,
    learner,
    premises,
    regime,
    runs,
    tables,
    theory,
)
from lrgap_nb.chapters.learning_order.params import ALGORITHMS


@pytest.fixture
def cfg():
    params = lg.chapter_config("learning_order", "smoke", max_steps=60, eval_every=10)
    return learner.Setting.of(params)


def _run(cfg, algorithms=ALGORITHMS, seed=0):
    seeds = [0, 1] * len(algorithms)
    batch = learner.make_batch(cfg, seeds, [100] * len(seeds))
    schedule = learner.cat_schedules([learner.schedule_for(a, cfg, 2) for a in algorithms])
    init = learner.initial_weights(cfg, seeds)
    out = learner.train(batch, schedule, cfg, torch.Generator().manual_seed(seed), init)
    out.pop("weights")
    return out


def test_same_seed_same_run_and_shapes(cfg):
    first, again = _run(cfg), _run(cfg)
    assert first == again
    assert first != _run(cfg, seed=1)
    hist = first["history"]
    assert hist["step"] == list(range(0, cfg.max_steps + 1, cfg.eval_every))
    for key in ("train_loss", "q_curvature", *distribution.GROUPS, *tables.TRAIN_GROUPS):
        assert len(hist[key]) == len(hist["step"]) and len(hist[key][0]) == 6


def test_a_seed_starts_every_algorithm_from_the_same_weights(cfg):
    init = learner.initial_weights(cfg, [3, 4, 3])
    assert torch.equal(init[0], init[2]) and not torch.equal(init[0], init[1])
    assert float(init.std()) == pytest.approx(cfg.init_scale, rel=0.1)


def test_anneal_happens_at_the_first_step_below_the_threshold(cfg):
    cfg = dataclasses.replace(cfg, eval_every=1, epsilon1=0.5, epsilon2=1e-6)
    out = _run(cfg, ("L-S",))
    threshold = cfg.epsilon1 + cfg.q0 * math.log(2)
    losses = torch.tensor(out["history"]["train_loss"])  # (steps, runs)
    for b, step in enumerate(out["anneal_step"]):
        below = (losses[:, b] < threshold).nonzero()
        assert step == (int(below[0]) if len(below) else -1)
    assert min(out["anneal_step"]) > 0  # threshold 0.64 is met within 60 steps


def test_lr_switches_at_the_anneal():
    # one run, no noise: after the anneal the step is exactly lr_small x the gradient
    params = lg.chapter_config("learning_order", "smoke", grad_noise=0.0, max_steps=40)
    cfg = dataclasses.replace(
        learner.Setting.of(params), eval_every=1, weight_decay=0.0, epsilon1=0.5, epsilon2=1e-6
    )
    batch = learner.make_batch(cfg, [0], [100])
    out = learner.train(
        batch,
        learner.schedule_for("L-S", cfg, 1),
        cfg,
        torch.Generator().manual_seed(0),
        learner.initial_weights(cfg, [0]),
    )
    t = out["anneal_step"][0]
    loss = out["history"]["train_loss"]
    assert 0 < t < 40
    assert loss[t][0] < cfg.epsilon1 + cfg.q0 * math.log(2) <= loss[t - 1][0]
    # the loss falls much more slowly per step once the learning rate is 20x smaller
    assert abs(loss[t + 1][0] - loss[t][0]) < abs(loss[t][0] - loss[t - 1][0])


def test_s_never_anneals_and_stops_at_its_loss(cfg):
    cfg = dataclasses.replace(cfg, epsilon2=0.6, max_steps=400)
    out = _run(cfg, ("S",))
    assert out["anneal_step"] == [0, 0]
    for b, stop in enumerate(out["stop_step"]):
        assert out["history"]["train_loss"][-1][b] <= 0.6 or stop == cfg.max_steps


def test_pre_activation_noise_decays_after_the_anneal(cfg):
    schedule = learner.schedule_for("S + noise", cfg, 2)
    assert torch.all(schedule.pre_noise == cfg.pre_noise)
    assert torch.all(learner.schedule_for("S + noise", cfg, 2, pre_noise=0.3).pre_noise == 0.3)
    assert torch.all(learner.schedule_for("S", cfg, 2).pre_noise == 0)
    level = learner.pre_noise_at(torch.tensor([1.0, 1.0, 1.0]), torch.tensor([-1, 5, 9]), 7, 0.5)
    assert level.tolist() == [1.0, 0.25, 1.0]  # not annealed / annealed 2 steps ago / not yet
    easy = dataclasses.replace(cfg, epsilon1=0.5, max_steps=200, pre_noise=0.5)  # anneals at 0.64
    assert all(s > 0 for s in _run(easy, ("S + noise",))["anneal_step"])


def test_q_curvature_is_zero_for_a_linear_net_and_detects_a_kink():
    dist = distribution.make_distribution(4, 0.1, 1.0, 0.5, torch.Generator().manual_seed(0))
    points = learner.q_points([dist])
    u = torch.tensor([1.0])
    # a single unit active on all three points is linear there: zero second difference
    W = torch.cat([torch.zeros(4), dist.z_q])[None, :, None]
    assert float(learner.q_curvature(W, points, u)) == pytest.approx(0.0, abs=1e-6)
    # a unit whose kink sits at z_q (w = zeta): relu(|zeta|^2) + 0 - 0 = |zeta|^2
    W = torch.cat([torch.zeros(4), dist.zeta])[None, :, None]
    assert float(learner.q_curvature(W, points, u)) == pytest.approx(0.25, rel=1e-5)


def test_group_train_accuracy_counts_each_group(cfg):
    batch = learner.make_batch(cfg, [0], [100])
    u = learner.output_weights(cfg.width)
    W = torch.zeros(1, 2 * cfg.d, cfg.width)  # output 0: nothing counts as correct
    acc = learner.group_train_accuracy(W, batch, u)
    assert set(acc) == set(tables.TRAIN_GROUPS)
    assert all(float(a) == 0.0 for a in acc.values())


def test_references_keep_only_p(cfg):
    batch = learner.make_batch(cfg, [0], [100], keep="P only")
    kept = batch.mask[0] > 0
    assert torch.all(batch.group[0][kept] == 0)
    assert torch.all(batch.X[0, :, cfg.d :] == 0)
    with_p = learner.make_batch(cfg, [0], [100], keep="with P")
    assert torch.all(with_p.group[0][with_p.mask[0] > 0] != 1)
    assert with_p.mask.sum() > batch.mask.sum()


def test_stationary_weight_noise_matches_the_recursion():
    # closed form against a long simulation of e <- (1 - lr·lambda) e - lr·xi
    lr, lam, tau = 10.0, 1e-3, 0.005
    closed = theory.stationary_weight_noise(lr, lam, tau)
    assert closed == pytest.approx(tau * math.sqrt(lr / (2 * lam)), rel=0.01)
    gen = torch.Generator().manual_seed(0)
    e = torch.zeros(4000)
    for _ in range(600):
        e = (1 - lr * lam) * e - lr * tau * torch.randn(4000, generator=gen)
    assert float(e.std()) == pytest.approx(closed, rel=0.05)
    # the chapter's setting: 1.12 at eta_1 = 10, 0.25 at eta_2 = 0.5 (tau 0.005, lambda 1e-4)
    assert theory.stationary_weight_noise(10.0, 1e-4, 0.005) == pytest.approx(1.118, abs=2e-3)
    assert theory.stationary_weight_noise(0.5, 1e-4, 0.005) == pytest.approx(0.25, abs=1e-3)


def test_twin_noise_is_zero_without_noise_and_grows_with_it(cfg):
    # a small rate keeps the dynamics stable, so the twins' gap is the noise alone (at eta_1 = 10
    # the dynamics amplify any difference, and the probe measures that too)
    quiet = dataclasses.replace(cfg, grad_noise=0.0, max_steps=20, lr_large=0.5)
    seeds = [0, 1]
    batch = learner.make_batch(quiet, seeds, [100] * 2)
    schedule = learner.schedule_for("L-S", quiet, 2)
    schedule = dataclasses.replace(schedule, anneal_loss=torch.full((2,), -math.inf))
    init = learner.initial_weights(quiet, seeds)

    def probe(tau):
        noisy = dataclasses.replace(quiet, grad_noise=tau)
        return learner.twin_pre_activation_noise(batch, schedule, noisy, init, 0)

    assert torch.allclose(probe(0.0), torch.zeros(2), atol=1e-5)
    small, large = probe(0.001), probe(0.01)
    assert torch.all(small > 0)
    assert torch.all(large > 2 * small)  # more gradient noise, more pre-activation noise


def test_a_unit_resumed_from_the_cache_equals_a_fresh_one(isolated_cache):
    params = lg.chapter_config("learning_order", "smoke")
    run = runs.chapter_runs(params)[0]
    fresh = run.execute()
    assert fresh.computed
    again = run.execute()
    assert not again.computed and again.payload == fresh.payload


def test_units_are_keyed_on_the_learner_setting_only():
    params = lg.chapter_config("learning_order", "smoke")
    other = lg.chapter_config("learning_order", "smoke", sweep_n=(60,))
    assert runs.main_units(params) == runs.main_units(other)
    labels = [u.label for u in runs.main_units(params) + runs.noisy_units(params)]
    assert labels == ["L-S", "S", "S + noise ×0.5", "S + noise", "S + noise ×2"]


@pytest.mark.parametrize(
    "override",
    [
        {"lr_large": -1.0},
        {"width": 0},
        {"seeds": 2.5},
        {"sweep_n": (100, -5)},
        {"lr_typo": 1.0},
        {"p0": 0.7, "q0": 0.5},
        {"zeta_norm": 20.0},
    ],
)
def test_invalid_parameters_fail_clearly(override):
    with pytest.raises(lg.ParameterError):
        lg.chapter_config("learning_order", "smoke", **override)


def test_calibration_runs_its_stages_on_seeds_kept_apart(isolated_cache, monkeypatch, tmp_path):
    from lrgap_nb.chapters.learning_order import calibration

    def smoke_cfg(**changes):
        return lg.chapter_config("learning_order", "smoke", **changes)

    monkeypatch.setattr(calibration, "calibration_cfg", smoke_cfg)
    monkeypatch.setattr(calibration, "CALIBRATION_SEEDS", (100, 101))
    monkeypatch.setattr(calibration, "STAGE_A", [{"d": 20, "n_train": 100, "gamma0": 0.02}])
    monkeypatch.setattr(
        calibration, "STAGE_B", [{"zq_norm": 9.0, "zeta_norm": 1.5, "lr_large": 20.0}]
    )
    monkeypatch.setattr(calibration, "STAGE_B_STEPS", 100)
    report = sweep.execute_stages(lambda: calibration.walk().runs)
    assert report.counts() == {"ran": 5, "cached": 0, "failed": 0}  # 2 + 2 + 1, stage by stage
    log = pd.read_csv(calibration.write_log(tmp_path / "log.csv"))
    assert list(log["stage"]) == ["A", "B", "C"]
    assert log.loc[2, "noise_probe_steps"] % 50 == 0
    reported = {
        s
        for u in runs.chapter_runs(lg.chapter_config("learning_order", "smoke"))
        for s in u.config.seeds
    }
    assert reported.isdisjoint(calibration.CALIBRATION_SEEDS)


def test_committed_results_list_every_calibration_stage_and_reproduce_the_log(isolated_cache):
    from lrgap_nb.chapters.learning_order import calibration

    listed = runs.calibration_runs(lg.chapter_config("learning_order", "smoke"))
    kinds = [run.kind for run in listed]
    stage_a, stage_b = 2 * len(calibration.STAGE_A), 2 * len(calibration.STAGE_B)
    assert kinds[: stage_a + stage_b + 1] == [calibration.KIND] * (stage_a + stage_b + 1)
    assert kinds[stage_a + stage_b + 1 :] == [regime.KIND] * 4 * len(regime.candidates())
    assert all(run.lookup() is not None for run in listed)
    log = pd.read_csv(io.StringIO(calibration.walk().log.to_csv(index=False)))
    pd.testing.assert_frame_equal(log, calibration.calibration_log())


def test_an_empty_cache_lists_only_the_first_calibration_stage(isolated_cache, empty_committed):
    from lrgap_nb.chapters.learning_order import calibration

    listed = runs.calibration_runs(lg.chapter_config("learning_order", "smoke"))
    assert len(listed) == 2 * len(calibration.STAGE_A)
    assert {run.config.keep for run in listed} == {"P only", "with P"}
    assert {run.config.setting.d for run in listed} == {c["d"] for c in calibration.STAGE_A}


def test_s_plus_noise_anneals_on_its_noise_free_loss(cfg):
    # the recorded train loss is the network's own; the anneal is the first step it is below the
    # threshold, even when the pre-activation noise is far larger than the pre-activations
    loud = dataclasses.replace(cfg, eval_every=1, epsilon1=0.5, pre_noise=5.0, max_steps=150)
    out = _run(loud, ("S + noise",))
    threshold = loud.epsilon1 + loud.q0 * math.log(2)
    losses = torch.tensor(out["history"]["train_loss"])
    for b, step in enumerate(out["anneal_step"]):
        below = (losses[:, b] < threshold).nonzero()
        assert step == (int(below[0]) if len(below) else -1)


def test_the_premises_runs_retrace_the_main_runs_step_for_step():
    params = lg.chapter_config("learning_order", "smoke")
    main = runs.unit_payload(runs.main_units(params)[0])
    measured = runs.diagnosed_payload(runs.premise_units(params)[0])
    for a, b in zip(main["runs"], measured["runs"], strict=True):
        index = [b["history"]["step"].index(step) for step in a["history"]["step"]]
        for key, values in a["history"].items():
            assert [b["history"][key][i] for i in index] == values, key
        assert (a["anneal_step"], a["stop_step"]) == (b["anneal_step"], b["stop_step"])
    assert np.isfinite(measured["runs"][0]["history"]["sharpness"][0])


def test_sharpness_is_the_top_eigenvalue_of_the_full_hessian(cfg):
    small = dataclasses.replace(cfg, d=3, width=4)
    batch = learner.make_batch(small, [0, 1], [30, 30])
    u = learner.output_weights(small.width)
    W = learner.initial_weights(small, [0, 1]) * 10
    top = learner.sharpness(W, batch, u, small.weight_decay, iterations=200)
    for b in range(2):

        def loss(w, b=b):
            margin = batch.y[b] * learner.forward(w[None], batch.X[b : b + 1], u)[0]
            return learner.logistic(margin).mean() + small.weight_decay / 2 * (w**2).sum()

        H = torch.autograd.functional.hessian(loss, W[b]).reshape(W[b].numel(), -1)
        assert float(top[b]) == pytest.approx(float(torch.linalg.eigvalsh(H)[-1]), rel=1e-3)


def test_the_fixed_noise_anneal_fires_on_schedule_even_when_the_loss_stays_high(cfg):
    loud = dataclasses.replace(cfg, pre_noise=50.0, max_steps=80, eval_every=10)
    seeds = [0, 1]
    out = learner.train(
        learner.make_batch(loud, seeds, [100, 100]),
        learner.schedule_for("S + noise", loud, 2, anneal_at=30),
        loud,
        torch.Generator().manual_seed(0),
        learner.initial_weights(loud, seeds),
    )
    assert out["anneal_step"] == [30, 30]
    with pytest.raises(ValueError, match="S \\+ noise"):
        learner.schedule_for("L-S", loud, 2, anneal_at=30)


def _record(steps, loss, anneal=-1, sharp=None, **columns):
    history = {"step": steps, "train_loss": loss, "P only": [0.9] * len(steps)}
    history["sharpness"] = sharp or [0.01] * len(steps)
    history |= columns
    return {"anneal_step": anneal, "stop_step": steps[-1], "history": history}


def test_premises_hold_only_when_each_measurement_meets_its_threshold():
    steps = [0, 100, 200, 300]
    ls = _record(steps, [0.7, 0.5, 0.3, 0.1], anneal=200, **{
        "train P only": [0.5, 1.0, 1.0, 1.0], "loss Q only": [0.69, 0.69, 0.68, 0.2]})  # fmt: skip
    s = _record(steps, [0.7, 0.4, 0.2, 0.1], **{"train Q only": [0.5, 1.0, 1.0, 1.0],
                                            "train P only": [0.5, 0.5, 0.5, 1.0]})  # fmt: skip
    s["history"]["P only"] = [0.5, 0.6, 0.7, 0.75]  # S's P-only error 0.25
    few, many = {"history": {"P only": [0.7]}}, {"history": {"P only": [0.9]}}
    frame = premises.premise_frame({0: ls}, {0: s}, {0: few}, {0: many}, 10.0, 1.0)
    row = frame.iloc[0]
    assert row["(a)"] and row["(b)"] and row["(c)"] and row["protocol failures"] == ""
    assert row["S: P-only error position"] == pytest.approx(0.75)
    unstable = _record(steps, ls["history"]["train_loss"], 200, [0.3, 0.1, 0.1, 0.1], **{
        "train P only": [0.5, 1.0, 1.0, 1.0], "loss Q only": [0.69, 0.69, 0.3, 0.2]})  # fmt: skip
    row = premises.premise_frame({0: unstable}, {0: s}, {0: few}, {0: many}, 10.0, 1.0).iloc[0]
    assert row["L-S: max eta·sharpness"] == pytest.approx(3.0)  # 10 × 0.3 before the anneal
    assert not row["(c)"] and not row["(b)"]  # Q-only loss 0.3 at the anneal: not near log 2


def test_a_noise_run_whose_anneal_never_fired_fails_premise_d():
    stuck = _record([0, 100, 200], [0.7, 0.6, 0.57], anneal=-1)
    ok, why = premises.noise_premise(stuck, 100)
    assert not ok and "never fired" in why
    fitted = _record([0, 100, 200], [0.7, 0.4, 0.1], anneal=100)
    assert premises.noise_premise(fitted, 100) == (True, "")
    assert not premises.noise_premise(fitted, 150)[0]  # it annealed, but not on schedule


def test_theory_prints_both_sides_of_each_inequality():
    params = lg.chapter_config("learning_order", "overnight")
    table = theory.inequalities(params, sharpness0=2.4, second_phase=500)
    assert list(table.columns) == ["the argument needs", "left side", "right side", "holds"]
    first = table.iloc[0]
    assert first["left side"] == "(1-q0)N = 320" and first["right side"] == "4·d = 800"
    assert first["holds"] == "no"
    assert table.iloc[3]["holds"] == "no"  # eta_1 = 20 times 2.4 is far past the edge


def test_smoke_claims_never_read_opposite_where_premises_fail(isolated_cache):
    params = lg.chapter_config("learning_order", "smoke")
    results = lg.runs.by_kind(lg.execute("learning_order", params))
    judged = lc.claims(lc.evidence(params, results))
    assert len({c.statement for c in judged}) == len(judged)
    for claim in judged:
        failing = [p for p in claim.premises if not p.holds]
        assert (claim.verdict.label == stats.PRECONDITION_NOT_MET) == bool(failing)
        assert claim.verdict.reason
    outcome = [
        c for c in judged if any(p.name.startswith("the theorem's regime") for p in c.premises)
    ]
    assert len(outcome) >= 5
    assert all(" of " in c.scale for c in outcome)
    read = lc.reading(judged)
    assert read["outcome_claims"] == len(outcome)
    assert read["outcome_judged"] == sum(
        c.verdict.label != stats.PRECONDITION_NOT_MET for c in outcome
    )
    assert {read[k] for k in ("ahead_on_p", "s_fits_q_first", "s_as_if_few")} <= set(stats.LABELS)


def test_regime_search_uses_calibration_seeds_only():
    from lrgap_nb.chapters.learning_order import calibration

    assert set(regime.REGIME_SEEDS) <= set(calibration.CALIBRATION_SEEDS)
    reported = set(range(lg.chapter_config("learning_order", "overnight").seeds))
    assert reported.isdisjoint(regime.REGIME_SEEDS)


def test_regime_verdict_counts_the_candidates_inside_and_names_the_closest(monkeypatch):
    monkeypatch.setattr(regime, "candidates", lambda: [{}, {}])
    row = {"d": 50, "N": 500, "p0": 0.02, "r": 0.05, "λ": 0.01, "η₁": 29.0, "η₂": 2.9,
           "τ_ξ": 0.005, "(a)": 0.0, "(b)": 0.2, "(c)": 1.0, "all": 0.0, "L-S annealed": 0.0,
           "S final train loss": 0.6}  # fmt: skip
    found = regime.verdict(pd.DataFrame([row | {"d": 100, "(b)": 0.0}, row]))
    assert (found["mapped"], found["candidates"], found["inside"]) == (2, 2, 0)
    assert found["closest_d"] == 50 and found["closest_b"] == 0.2  # more seeds meet (b)
    assert regime.verdict(pd.DataFrame([row | {"all": 0.8}]))["inside"] == 1
    empty = regime.verdict(pd.DataFrame())
    assert empty["mapped"] == 0 and math.isnan(empty["closest_all"])
    assert set(empty) == set(found)  # the prose's keys exist before any candidate is mapped
