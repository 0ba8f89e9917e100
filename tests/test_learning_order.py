"""The batched learner of the learning-order chapter (Li, Wei & Ma 2019, Alg. 1-2, Sec. 5)."""

import dataclasses
import math

import pytest
import torch

import lrgap_nb as lg
from lrgap_nb import learning_order as lo


@pytest.fixture
def cfg():
    return lg.chapter_config("learning_order", "smoke", max_steps=60, eval_every=10)


def _run(cfg, algorithms=lo.ALGORITHMS, seed=0):
    batch = lo.make_batch(cfg, [0, 1] * len(algorithms), [cfg.n_train] * 2 * len(algorithms))
    schedule = lo.cat_schedules([lo.schedule_for(a, cfg, 2) for a in algorithms])
    return lo.train(batch, schedule, cfg, torch.Generator().manual_seed(seed))


def test_same_seed_same_run_and_shapes(cfg):
    first, again = _run(cfg), _run(cfg)
    assert first == again
    assert first != _run(cfg, seed=1)
    hist = first["history"]
    assert hist["step"] == list(range(0, cfg.max_steps + 1, cfg.eval_every))
    for key in ("train_loss", "q_curvature", *lg.synthetic.GROUPS):
        assert len(hist[key]) == len(hist["step"]) and len(hist[key][0]) == 6


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
    cfg = lg.chapter_config("learning_order", "smoke", grad_noise=0.0, max_steps=40, eval_every=1)
    cfg = dataclasses.replace(cfg, weight_decay=0.0, epsilon1=0.5, epsilon2=1e-6)
    batch = lo.make_batch(cfg, [0], [cfg.n_train])
    out = lo.train(batch, lo.schedule_for("L-S", cfg, 1), cfg, torch.Generator().manual_seed(0))
    t = out["anneal_step"][0]
    loss = out["history"]["train_loss"]
    assert 0 < t < 40
    assert loss[t][0] < cfg.epsilon1 + cfg.q0 * math.log(2) <= loss[t - 1][0]
    # the loss falls much more slowly per step once the learning rate is 10x smaller
    assert abs(loss[t + 1][0] - loss[t][0]) < abs(loss[t][0] - loss[t - 1][0])


def test_s_never_anneals_and_stops_at_its_loss(cfg):
    cfg = dataclasses.replace(cfg, epsilon2=0.6, max_steps=400)
    out = _run(cfg, ("S",))
    assert out["anneal_step"] == [0, 0]
    for b, stop in enumerate(out["stop_step"]):
        assert out["history"]["train_loss"][-1][b] <= 0.6 or stop == cfg.max_steps


def test_pre_activation_noise_decays_after_the_anneal(cfg):
    schedule = lo.schedule_for("S + noise", cfg, 2)
    assert torch.all(schedule.pre_noise == cfg.pre_noise)
    assert torch.all(lo.schedule_for("S", cfg, 2).pre_noise == 0)
    level = lo.pre_noise_at(torch.tensor([1.0, 1.0, 1.0]), torch.tensor([-1, 5, 9]), 7, 0.5)
    assert level.tolist() == [1.0, 0.25, 1.0]  # not annealed / annealed 2 steps ago / not yet
    easy = dataclasses.replace(cfg, epsilon1=0.5, max_steps=200)  # anneals at loss 0.64
    assert all(s > 0 for s in _run(easy, ("S + noise",))["anneal_step"])


def test_q_curvature_is_zero_for_a_linear_net_and_detects_a_kink():
    dist = lg.synthetic.make_distribution(4, 0.1, 1.0, 0.5, torch.Generator().manual_seed(0))
    points = lo.q_points([dist])
    u = torch.tensor([1.0])
    # a single unit active on all three points is linear there: zero second difference
    W = torch.cat([torch.zeros(4), dist.z_q])[None, :, None]
    assert float(lo.q_curvature(W, points, u)) == pytest.approx(0.0, abs=1e-6)
    # a unit whose kink sits at z_q (w = zeta): relu(|zeta|^2) + 0 - 0 = |zeta|^2
    W = torch.cat([torch.zeros(4), dist.zeta])[None, :, None]
    assert float(lo.q_curvature(W, points, u)) == pytest.approx(0.25, rel=1e-5)


def test_references_keep_only_p(cfg):
    batch = lo.make_batch(cfg, [0], [cfg.n_train], keep="P only")
    kept = batch.mask[0] > 0
    assert torch.all(batch.group[0][kept] == 0)
    assert torch.all(batch.X[0, :, cfg.d :] == 0)
    with_p = lo.make_batch(cfg, [0], [cfg.n_train], keep="with P")
    assert torch.all(with_p.group[0][with_p.mask[0] > 0] != 1)
    assert with_p.mask.sum() > batch.mask.sum()


@pytest.mark.parametrize(
    "override",
    [{"lr_large": -1.0}, {"width": 0}, {"seeds": 2.5}, {"sweep_n": (100, -5)}, {"lr_typo": 1.0}],
)
def test_invalid_parameters_fail_clearly(override):
    with pytest.raises(lg.ParameterError):
        lg.chapter_config("learning_order", "smoke", **override)
