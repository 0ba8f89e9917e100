# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Learning order on Li, Wei & Ma's distribution
#
# **Claims tested.** Does a large initial learning rate generalise better because it changes
# *what the network learns first*? Li, Wei & Ma {cite}`li2019towards` build a distribution with two
# kinds of pattern: P (half-Gaussians with margin $\gamma_0$ along $w^*$; linearly separable but
# $d$-dimensional noise makes it sample-hungry) and Q (three nearby directions $z_q$,
# $z_q \pm \zeta$; low-noise, not linearly separable). With probability $p_0$ an example carries
# only P, with $q_0$ only Q, otherwise both (the talk slides {cite}`talk_slides` use 20%, 20% and
# 60%). They prove for a two-layer ReLU network trained with Gaussian gradient noise that a large
# learning rate annealed at train loss $\epsilon_1 + q_0\log 2$ (**L-S**) learns P first, from the
# $(1-q_0)N$ examples that contain it, and Q only after the anneal (Theorem 3.4, Lemmas
# 4.1–4.2), while a small learning rate throughout (**S**) memorises Q first and learns P from the
# $p_0 N$ P-only examples, ending with a larger test error (Theorem 3.5). A small learning rate
# with annealed pre-activation noise (**S + noise**) is their mitigation. The survey report
# {cite}`survey_report` retells this argument. We train all three on the exact distribution, in a
# regime chosen on seeds kept apart from the ones reported here, and judge each statement by the
# book's shared rules.

# %% tags=["remove-cell"]
# Outside a checkout of the repository (Colab, a downloaded notebook), install the book's package.
try:
    import lrgap_nb  # noqa: F401
except ImportError:
    import subprocess
    import sys

    repository = "https://github.com/lrgap/lrgap"  # _config.yml repository.url
    pip = [sys.executable, "-m", "pip", "install", "--quiet"]
    subprocess.run([*pip, f"lrgap-nb @ git+{repository}"], check=True)

# %% tags=["parameters"]
profile: str = "smoke"  # smoke | cpu | overnight | full; each None takes its value
p0: float = None  # probability of a P-only example (the talk slides' value) (paper: 0.2)
q0: float = None  # probability of a Q-only example (the talk slides' value) (paper: 0.2)
d: int = None  # dimension of each component; x has 2d coordinates (the paper gives no value)
n_train: int = None  # training examples N of the main runs (the paper gives no value)
n_test: int = None  # test examples per group (P only, Q only, both)
width: int = None  # hidden units m (the paper gives no value)
gamma0: float = None  # P's margin gamma0 along w* (the paper gives no value)
zq_norm: float = None  # ||z_q||, the scale of Q (the paper gives no value)
zeta_norm: float = None  # ||zeta|| (r in the paper), Q's offset, much smaller than ||z_q|| (no value given)
init_scale: float = None  # std tau_0 of U's entries at init (the paper gives no value)
lr_large: float = None  # eta_1 of L-S (the paper gives no value)
lr_small: float = None  # eta_2: L-S after the anneal, S, S + noise (the paper gives no value)
weight_decay: float = None  # lambda (the paper gives no value)
grad_noise: float = None  # tau_xi, std of the gradient noise xi (the paper gives no value)
pre_noise: float = None  # std of S + noise's pre-activation noise until its anneal: L-S's measured on calibration seeds (paper: not given)
pre_noise_factors: list = None  # S + noise runs at pre_noise times each factor (1: matched to L-S's effective noise)
noise_probe_steps: int = None  # steps at eta_1 after which twin runs measure L-S's effective pre-activation noise (its median anneal step on calibration seeds)
noise_anneal_step: int = None  # step at which S + noise starts annealing its noise, fixed (L-S's median anneal step on calibration seeds) (paper: anneals with the rate)
sharpness_every: int = None  # steps between measurements of the loss's top Hessian eigenvalue (the stability premise)
noise_decay: float = None  # per-step factor on pre_noise after its anneal (paper: not given)
epsilon1: float = None  # L-S anneals at train loss epsilon1 + q0·log 2 (the paper gives no value)
epsilon2: float = None  # every run stops at train loss epsilon2 (the paper gives no value)
max_steps: int = None  # cap on full-batch steps per run
eval_every: int = None  # steps between recorded evaluations
seeds: int = None  # seeds of the main runs (0, 1, ...)
sweep_n: list = None  # training-set sizes of the N sweep
sweep_seeds: int = None  # seeds per sweep point

# %% tags=["remove-input"]
import lrgap_nb as lg

cfg = lg.configure("learning_order", globals())
out = lg.outputs("learning_order")
cfg

# %% [markdown]
# ## Setting, and why these values
#
# **Network.** $f(x) = \sum_j u_j\,\mathrm{relu}(\langle U_j, x\rangle)$ with $m$ = `width`
# hidden units and no bias. Only $U$ is trained; $u$ is fixed at $\pm 1/\sqrt m$ (half each). The
# paper's update rule acts on $U$ alone, and a fixed $u$ removes the $u$–$U$ rescaling symmetry so
# that weight decay and noise act on one set of weights.
#
# **Training.** Full-batch gradient descent on the logistic loss with weight decay $\lambda$ and
# spherical Gaussian noise added to the gradient,
# $U \leftarrow U - \eta(\nabla \hat L + \lambda U + \xi)$, $\xi \sim N(0, \tau_\xi^2 I)$, the
# update rule of the paper as the survey report states
# it. Full batch puts all the noise in $\xi$, where the theory puts it. Ignoring the gradient, the
# weight noise obeys $e \leftarrow (1-\eta\lambda)e - \eta\xi$, whose stationary variance per
# coordinate is $\eta^2\tau_\xi^2/(1-(1-\eta\lambda)^2) \approx \eta\tau_\xi^2/2\lambda$: a standard
# deviation of about $\tau_\xi\sqrt{\eta/2\lambda}$, larger at $\eta_1$ than at $\eta_2$ by
# $\sqrt{\eta_1/\eta_2}$. Before the anneal L-S and S differ only in the step size, and the step
# size changes two things: this noise, which the theory credits, and the stability of each step
# (when $\eta$ times the largest curvature of the loss exceeds 2, gradient descent oscillates at
# the edge of stability {cite}`cohen2021gradient`). We do not separate the two.
#
# L-S anneals at the first step with train loss below $\epsilon_1 + q_0\log 2$; every algorithm
# stops at train loss $\epsilon_2$ or at `max_steps`. S + noise adds $N(0, \sigma^2)$ to every
# pre-activation and, from the fixed step `noise_anneal_step` on, multiplies $\sigma$ by
# `noise_decay` each step: a schedule that always fires (a loss criterion, used before, never fired
# at the matched level, where the noise keeps the loss up). All runs of one algorithm train together as one batch of weight matrices; each seed fixes
# its distribution, training set, test sets and initial weights (the same for every algorithm, so
# comparisons are paired by seed), and a rerun gives the same numbers.
#
# The sizes and noise levels at this profile follow. The stationary weight noise per coordinate is
# $\tau_\xi\,\eta/\sqrt{1-(1-\eta\lambda)^2} \approx \tau_\xi\sqrt{\eta/2\lambda}$, ignoring the
# gradient, which pulls the weights back and makes the real fluctuation smaller (the twin runs
# below measure it):

# %%
out.table(lg.learning_order.tables.setting_table(cfg), "settings")

# %% [markdown]
# **The regime.** The paper's results are asymptotic and fix no dimension, sample size or scale.
# Its premises are what we can check: P must be *sample-hungry* (learning it from the $p_0N$ P-only
# examples must give a clearly larger error than from the $(1-q_0)N$ examples that contain it),
# and S must fit Q before P. We chose $d$, $N$, $\gamma_0$, $\lVert z_q\rVert$, $r = \lVert\zeta
# \rVert$ and $\eta_1$ on calibration seeds 100–109 by these premises alone (and $\eta_2$ in a pilot
# on seeds 100–104, so that the runs converge within the step budget), never by the final
# error the chapter tests, and report on seeds $0, 1, \dots$ The calibration log is in the
# appendix at the end of this page.

# %% tags=["remove-input"]
calibration = lg.learning_order.calibration.calibration_log()
chosen = lg.learning_order.calibration.chosen(calibration)
out.glue(**{f"cal_{key}": value for key, value in chosen.items()})

# %% [markdown]
# The calibration chose $d =$ {glue:text}`cal_d:g`, $N =$ {glue:text}`cal_n_train:g` and
# $\gamma_0 =$ {glue:text}`cal_gamma0:g` (references {glue:text}`cal_error_few:.3f` against
# {glue:text}`cal_error_many:.3f`, gap 95% CI {glue:text}`cal_gap_ci`), then
# $\lVert z_q\rVert =$ {glue:text}`cal_zq_norm:g`, $\lVert\zeta\rVert =$
# {glue:text}`cal_zeta_norm:g` and $\eta_1 =$ {glue:text}`cal_lr_large:g`: the first setting of
# stage B to meet all three of its premises or, when none does, the one meeting the most. It met
# {glue:text}`cal_premises_met` of 3 (L-S annealed on {glue:text}`cal_ls_annealed` seeds; S fits
# Q first: {glue:text}`cal_s_fits_q_first`; Q-curvature smaller under L-S:
# {glue:text}`cal_curvature_smaller`). L-S's effective pre-activation noise on Q inputs after
# {glue:text}`cal_probe_steps:g` steps at $\eta_1$ was {glue:text}`cal_sigma` on the calibration
# seeds.

# %%
done = lg.execute("learning_order", cfg)  # config -> result, from the results cache when present
results = lg.runs.by_kind(done)
main = results["learning_order_main"] + results["learning_order_noisy"]
algorithms = [
    c.label for c, r in done.items() if r.kind in ("learning_order_main", "learning_order_noisy")
]
history = lg.learning_order.tables.history_frame(main)
errors = lg.learning_order.tables.final_errors(main, cfg)
ref_errors = lg.learning_order.tables.final_errors(results["learning_order_references"], cfg)
evidence = lg.learning_order.claims.evidence(cfg, results)

# %% tags=["remove-input"]
cost = lg.learning_order.tables.cost(results)
out.glue(profile=cfg.profile, cost_units=cost["units"], cost_hours=cost["hours"])

# %% [markdown]
# The {glue:text}`cost_units` cached units of this page (profile {glue:text}`profile`) took
# {glue:text}`cost_hours:.2f` h of one CPU thread in all, as recorded in their provenance (on a
# two-core machine shared with other work, so wall times vary with the load).

# %% [markdown]
# ## The theorem's premises, per seed
#
# The contrast between L-S and S rests on what happens on the way: (a) S fits its Q-only examples
# first and learns P from the P-only examples alone, (b) L-S anneals once P is fitted while its
# loss on the Q-only examples is still near $\log 2$, (c) both step sizes stay below the stability
# edge ($\eta\,\lambda_{\max} < 2$, with $\lambda_{\max}$ the top Hessian eigenvalue of the
# training loss, measured by power iteration every `sharpness_every` steps and at the anneal), and
# (d) S + noise anneals its noise on schedule. Each is measured per seed, on runs that retrace the
# main runs step for step with these measurements added, before any outcome is read; every outcome
# claim below is judged only on the seeds where its premises held. How many seeds met each:

# %%
premises = evidence.premises.reset_index()
out.table(lg.learning_order.premises.summary(premises), "premises_summary")

# %% [markdown]
# Per seed (positions: 0 is the $(1-q_0)N$ reference's P-only error, 1 the $p_0N$ one's):

# %%
out.table(premises, "premises_per_seed", show=premises.round(3))

# %% [markdown]
# **The theorem's inequalities at these sizes.** Both sides of each, with "≫" read as a factor
# stated in the table's first column; $\lambda_{\max}$ at initialisation and the length of L-S's
# second phase are measured (medians over seeds):

# %%
inequalities = lg.learning_order.theory.inequalities(
    cfg,
    lg.learning_order.premises.initial_sharpness(results["learning_order_premises"]),
    lg.learning_order.premises.second_phase(results["learning_order_premises"]),
)
out.table(inequalities, "theorem_inequalities")

# %% [markdown]
# ## Learning order
#
# Test accuracy on fresh P-only, Q-only and both-component examples (one test set of `n_test`
# examples per group and seed). The theory predicts: L-S high on P and at chance on Q until its
# anneal, then Q; S high on Q early.

# %% tags=["hide-input"] mystnb={"figure": {"name": "fig-learning-order-accuracy", "caption": "Test accuracy per group over full-batch steps for L-S, S and S + noise at three noise levels (band: mean \u00b1 one standard deviation across seeds). Dotted grey: L-S's median anneal step."}}
axes = lg.learning_order.figures.accuracy_curves(history, algorithms)
out.figure(axes, "fig-learning-order-accuracy")

# %% [markdown]
# Q-only accuracy is a coarse measure of "learned Q". The network has no bias and ReLU is
# positively homogeneous, so on a Q-only input $a(z_q + b\zeta)$ the output is $a$ times the
# output at the direction $z_q + b\zeta$: its sign, and so the prediction, depends only on three
# directions. Q-only accuracy per seed therefore moves in steps of a quarter ($z_q$ carries half of
# the Q-only examples, each of $z_q\pm\zeta$ a quarter). Lemmas 4.1–4.2 state the mechanism in a
# continuous number instead, our primary measure: the network's second difference on Q,
# $|g(z_q+\zeta) + g(z_q-\zeta) - 2g(z_q)|$, which must be large for the network to tell $z_q$
# from $z_q\pm\zeta$. The theory bounds it by $\tilde O(r^2/\lambda)$ under L-S before the anneal,
# where $r = \lVert\zeta\rVert$ and $\tilde O$ hides factors polylogarithmic in $d$.

# %% tags=["hide-input"] mystnb={"figure": {"name": "fig-learning-order-curvature", "caption": "Q-curvature $|g(z_q+\\zeta) + g(z_q-\\zeta) - 2g(z_q)|$ over training (band: mean \u00b1 one standard deviation across seeds). Dotted grey: L-S's median anneal step."}}
ax = lg.learning_order.figures.curvature_curves(history, algorithms)
out.figure(ax, "fig-learning-order-curvature")

# %% [markdown]
# Which group does each algorithm *fit* first? Training accuracy on the P-only and on the Q-only
# training examples (without the pre-activation noise):

# %% tags=["hide-input"] mystnb={"figure": {"name": "fig-learning-order-fit", "caption": "Training accuracy on the P-only (left) and Q-only (right) training examples (band: mean \u00b1 one standard deviation across seeds). Dotted grey: L-S's median anneal step."}}
axes = lg.learning_order.figures.fit_curves(history, ["L-S", "S"])
out.figure(axes, "fig-learning-order-fit")

# %% [markdown]
# Per seed: each algorithm's state at the last evaluation before L-S's anneal step, its final
# Q-curvature, and the first step at which it classifies all its P-only (Q-only) training examples
# (`inf`: never within the run):

# %%
order = lg.learning_order.tables.learning_order(history, algorithms)
out.table(order, "learning_order_per_seed", show=order.round(3))

# %% [markdown]
# ## S + noise, matched to L-S
#
# S + noise should carry the noise that L-S's large rate puts where it matters: on the
# pre-activations of Q inputs. We measure it with twin runs: each seed's L-S run is trained twice
# from the same initial weights on the same data, at $\eta_1$ for `noise_probe_steps` steps, with
# different gradient noise; the pre-activations $\langle U_j, x\rangle$ of the two copies on the
# Q-only training inputs then differ by $\sqrt2$ times the noise each carries. The level of
# S + noise was set to this measurement on the calibration seeds, and we also run half and twice
# that level. The measurement on the reported seeds checks the match. One difference remains: the
# weight noise is correlated over steps, the pre-activation noise is drawn afresh each step. Each
# S + noise run anneals its noise at step `noise_anneal_step`; premise (d) checks that it did, that
# the run then fitted (its loss below $\log 2$) and that its step stayed below the stability edge:

# %%
noise = lg.learning_order.tables.noise_table(results["learning_order_noise"][0], cfg)
out.table(noise, "effective_noise")

# %%
evidence.noisy.groupby("algorithm", sort=False)["(d)"].agg(["sum", "size"]).rename(
    columns={"sum": "seeds meeting (d)", "size": "seeds"}
)

# %% [markdown]
# ## Controls
#
# Two controls separate the step size from the noise. **L-S without gradient noise** is L-S with
# $\tau_\xi = 0$: plain full-batch gradient descent, the large step alone. Lemma 4.2 credits the
# noise for L-S's small Q-curvature, so without it the curvature should be larger. **S with L-S's
# weight noise** is S with $\tau_\xi$ scaled by $\sqrt{\eta_1/\eta_2}$, which gives it the
# stationary weight noise $\tau_\xi\sqrt{\eta/2\lambda}$ that L-S carries at $\eta_1$; if the
# noise is what helps, it should end below S. Final errors (mean ± std across seeds), and each
# control's largest $\eta\,\lambda_{\max}$:

# %%
shown = ["L-S", "S", *lg.learning_order.runs.CONTROLS]
controls = lg.learning_order.tables.final_table(
    evidence.errors[evidence.errors["algorithm"].isin(shown)]
)
out.table(controls, "controls")

# %%
control_runs = lg.learning_order.tables.summary(evidence.controls, ["max eta·sharpness", "anneal step"])
out.table(control_runs, "control_runs")

# %% [markdown]
# ## Effective sample size
#
# The paper's explanation of the gap: S learns P only from the $p_0N$ P-only examples (Q already
# fits the rest), L-S from all $(1-q_0)N$ that contain P. Two references train S on the P
# component alone (Q zeroed) of the same training sets: one on the P-only examples, one on all
# examples containing P. The statements below are contrasts between these, paired by seed, and
# are claimed only when the two references differ significantly and by the minimum stated with
# the verdicts (otherwise P is not sample-hungry and the statements have no premise).

# %%
effective = lg.learning_order.tables.effective_sample_table(errors, ref_errors)
out.table(effective, "effective_sample_size")

# %% [markdown]
# ## Sweep over N
#
# L-S and S on `sweep_seeds` seeds per training-set size (at the main $N$, the main runs' first
# `sweep_seeds` seeds); the overall test error is the mixture
# $p_0\,\mathrm{err}_P + q_0\,\mathrm{err}_Q + (1-p_0-q_0)\,\mathrm{err}_{both}$. The gap is paired
# by seed (same data and initial weights for both algorithms); intervals are Student-t 95%
# intervals, and each size's verdict follows the shared rule (the 95% interval clear of zero and
# a mean of at least one point of error). These sizes carry no premise measurements, so the claim
# over all sizes below cannot be judged.

# %%
sweep = lg.learning_order.tables.sweep_frame(
    results["learning_order_sweep"], cfg, results["learning_order_main"]
)
out.table(sweep, "sweep_n", show=sweep.round(4))

# %% tags=["hide-input"] mystnb={"figure": {"name": "fig-learning-order-sweep", "caption": "Final test error of L-S and S against the number of training examples, mean and Student-t 95% interval across seeds."}}
ax = lg.learning_order.figures.sweep_gap(sweep)
out.figure(ax, "fig-learning-order-sweep")

# %% [markdown]
# ## Final table and verdict
#
# Test error per group and overall (mixture), mean ± std across seeds, with the number of steps,
# the anneal step (0 for S, which never anneals; −1 if the criterion was never met) and the final
# train loss:

# %%
final = lg.learning_order.tables.final_table(errors)
out.table(final, "final_errors")

# %% [markdown]
# The claims' minimum effects and thresholds, and the premises' thresholds per seed ("as if from"
# needs half the references' gap). Premise (b) also asks that at its anneal L-S classify every
# P-only training example, and (d) that the noise anneal fire at its scheduled step. A run whose
# loss diverged or ended at or above $\log 2$ failed its protocol. Outcome claims are judged on
# the seeds meeting their premises (at least three, or all), and say how many.

# %%
out.table(lg.learning_order.claims.thresholds(), "claim_thresholds")

# %% [markdown]
# Each claim beside our number, with its verdict from the book's shared rule and the premises it
# rests on:

# %%
claims = lg.learning_order.claims.claims(evidence)
lg.report.save_claims("learning_order", claims)

# %% tags=["remove-input"]
reading = lg.learning_order.claims.reading(claims)
out.glue(**{f"read_{key}": value for key, value in reading.items()})

# %% [markdown]
# Read together. At L-S's anneal, L-S being ahead of S on P (the theorem's "learns P first")
# reads {glue:text}`read_ahead_on_p`; unless it reads reproduced, L-S does not learn P first in
# the sense the theorem needs, whatever its Q-curvature. The Q-curvature before the anneal reads
# {glue:text}`read_curvature_before_anneal`, S fitting Q before P
# {glue:text}`read_s_fits_q_first`, and S learning P as if from the P-only examples alone (premise
# (a)) {glue:text}`read_s_as_if_few`. Of the {glue:text}`read_outcome_claims` outcome claims,
# which rest on the theorem's premises, {glue:text}`read_outcome_judged` could be judged; the
# others read "precondition not met", each with its reason (the table of premises above says
# which premises failed and where). The regime search in the appendix says whether any setting
# within its budget meets them.

# %% [markdown]
# ## Appendix: calibration
#
# The regime was chosen on seeds 100–109, which no table above uses. Stage A varies $d$, $N$ and
# $\gamma_0$ and keeps the first setting where P is sample-hungry (the two references differ by
# the premise's minimum, stated with the verdicts, with a 95% interval clear of zero; the log
# was judged by the rule of its day, two standard errors). Stage B varies
# $\lVert z_q\rVert$, $\lVert\zeta\rVert$ and $\eta_1$ at that setting, with a shorter step cap
# (the premises concern the first few hundred steps), and keeps the first where L-S anneals on
# every seed, S fits its Q-only training examples before its P-only ones by the stated minimum,
# and L-S's Q-curvature before the anneal is smaller than S's by the stated factor; if none meets
# all three, the one meeting the most. The final errors of L-S and S are shown but never used to
# choose. Stage C measures L-S's effective pre-activation noise on Q inputs
# (twin runs) for S + noise. Each stage is listed once the one before it is cached and judged;
# `lrgap calibrate learning_order` computes them in turn and writes the log
# (`results/calibration/learning_order.csv`):

# %%
out.table(calibration, "calibration_log")

# %% [markdown]
# Before it, a pilot on seeds 100–104 (a shorter step cap, references only) chose stage A's
# candidates. The larger size ($d = 400$, $N = 800$) cost several times more per run on this
# machine (wall times in the table) and was not more sample-hungry than $d = 200$, $N = 400$
# (`results/calibration/learning_order_pilot.json`):

# %%
out.table(lg.learning_order.calibration.pilot_table(), "calibration_pilot")

# %% [markdown]
# ## Appendix: the regime search
#
# Issue 27's audit found the calibrated setting outside the theorem's regime. A search on
# calibration seeds (`regime.REGIME_SEEDS`, never the reported ones) moves along the theorem's
# scalings: $(1-q_0)N \gg d \gg p_0N$, $r^2/\lambda$ small or not, both step sizes a fraction of
# the stability edge measured at initialisation, the weight noise a multiple of the initial scale
# (the grid: `lrgap_nb/chapters/learning_order/regime.py`; the first row is the chapter's own
# setting with a shorter step cap). For each candidate, the fraction of seeds on which each
# premise held (rows appear as their runs are cached; `lrgap calibrate learning_order` runs the
# rest, after the staged calibration):

# %%
regime_map = lg.learning_order.regime.premise_map()
out.table(regime_map, "regime_map")

# %% tags=["hide-input"] mystnb={"figure": {"name": "fig-learning-order-regime", "caption": "The premise-satisfaction map: for each candidate setting (rows, as in the table above), the fraction of calibration seeds on which each premise held."}}
ax = lg.learning_order.figures.regime_map(regime_map)
out.figure(ax, "fig-learning-order-regime")

# %% tags=["remove-input"]
verdict = lg.learning_order.regime.verdict(regime_map)
out.glue(**{f"regime_{key}": value for key, value in verdict.items()})

# %% [markdown]
# The map has {glue:text}`regime_mapped` of the {glue:text}`regime_candidates` candidates;
# {glue:text}`regime_inside` met every premise on at least {glue:text}`regime_inside_fraction:.0%`
# of the seeds within the budget ({glue:text}`regime_budget`). The chapter's outcome claims are
# inside the theorem's regime only at such a setting. The closest (most seeds meeting every
# premise): $d =$ {glue:text}`regime_closest_d:g`, $N =$ {glue:text}`regime_closest_n_train:g`,
# $p_0 =$ {glue:text}`regime_closest_p0:g`, $r =$ {glue:text}`regime_closest_zeta_norm:g`,
# $\lambda =$ {glue:text}`regime_closest_weight_decay:g`, $\eta_1 =$
# {glue:text}`regime_closest_lr_large:g`, $\eta_2 =$ {glue:text}`regime_closest_lr_small:g` and
# $\tau_\xi =$ {glue:text}`regime_closest_grad_noise:g`, with (a) on
# {glue:text}`regime_closest_a:.0%`, (b) on {glue:text}`regime_closest_b:.0%`, (c) on
# {glue:text}`regime_closest_c:.0%` and all on {glue:text}`regime_closest_all:.0%` of the seeds.
# There L-S annealed on {glue:text}`regime_closest_ls_annealed:.0%` of the seeds and S's median
# final train loss was {glue:text}`regime_closest_s_final_loss:.3g` ($\log 2 \approx 0.693$).

# %% [markdown]
# ## Provenance and downloads

# %%
provenance = lg.report.provenance_table([r for kind in results.values() for r in kind], profile=cfg.profile)
out.table(provenance, "provenance")

# %%
lg.downloads("learning_order")
