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
# # The patch-augmented CIFAR-10 experiment
#
# **Claims tested.** Li, Wei & Ma {cite}`li2019towards` (section 6) put their learning-order
# argument on real images. Their distribution has two components: P, hard to generalise from
# few samples but easy to fit, and Q, low-noise and so easy to generalise (memorisable), but
# hard to fit for a model whose updates carry much noise. They add to CIFAR-10 a small 7×7 patch
# that reveals the label: all classes share one vector $z$ and differ only by a small
# $\pm\zeta_c$, so the patch is easy to memorise for a small learning rate but too fine to fit
# through large-learning-rate noise: the Q component. The image itself plays P. Their Figure 5
# (Figure 5 of the survey report {cite}`survey_report`) shows that a small learning rate
# memorises the patch at once and learns less from the images, while a large initial learning
# rate, or a small one with annealed pre-activation noise, ignores the patch until the anneal.
# The final mixed / clean validation accuracies are 95.35 / 87.61 (large LR + anneal) and
# 92.83 / 69.89 (small LR) in the survey report, and 94.43 / 81.36 (small LR + noise) in the talk
# slides {cite}`talk_slides`. The survey report reads the small-LR number as "learning from
# fewer images": 69.89 is close to a clean model trained on 10,000 images (65), not on 50,000
# (83). We build the dataset as the official code {cite}`li2019code` does, test the construction,
# train the three methods, check the mechanism before the outcome, and train clean-only
# references for the effective-sample reading.

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
profile: str = "smoke"  # smoke | cpu | overnight | paper-subset | full; each None takes its value
seeds: list = None  # training seeds of every reported run (not given in the paper)
dataset: str = None  # clean images the patches are added to (cifar10_synthetic: random images, smoke only) (paper: cifar10)
train_subset: int = None  # first training images kept (none: all) (paper: —)
model: str = None  # network: WRN-16-k (official wideresnet16, our wrn16_10) (paper: wrn16_10)
model_width: int = None  # channels of the first stage (none: the paper's 16) (paper: —)
epochs: int = None  # training epochs (paper: 60)
anneal_epoch: int = None  # 0-based epoch from which the LR is annealed (official: from 1-based epoch 30) (paper: 29)
batch_size: int = None  # minibatch size (paper: 128)
lr_large: float = None  # initial LR of large LR + anneal (paper: 0.1)
lr_small: float = None  # LR of small LR and small LR + noise (paper: 0.004)
lr_factor: float = None  # LR factor at the anneal (0.1 -> 0.004) (paper: 0.04)
noise: float = None  # pre-activation noise std of small LR + noise (paper: 0.4)
noise_factor: float = None  # noise factor at the anneal (0.4 -> 4e-6) (paper: 1e-05)
sigma_z: float = None  # std of the patch vector z shared by all classes (paper: 1.25)
beta: float = None  # class patterns zeta_c ~ U[-beta, beta] (paper: 0.1)
alpha: float = None  # patch-only examples carry alpha·U(0,1)·zeta (paper: 1.75)
clean_frac: float = None  # fraction of training images without a patch (fixed) (paper: 0.2)
patch_only_prob: float = None  # probability that a patched image is served patch-only, redrawn at every serve (paper: 0.2)
patch_seed: int = None  # seed of z, zeta, the clean images and the patch-only labels (paper: 2)
n_patch_eval: int = None  # zero images in the patch-only validation set (paper: 1000)
calibration_betas: list = None  # patch strengths beta tried in turn, small LR on the calibration seed, if the official 0.1 does not let it memorise at this width; the first that does is used (none: beta)
calibration_lrs: list = None  # small LRs tried in turn, each with every calibration beta, if the official 0.004 does not let small LR memorise at this width and data size; large LR + anneal then anneals to the chosen one, as officially 0.1 -> 0.004 (none: lr_small)
calibration_epochs: int = None  # epochs of each calibration run (none: anneal_epoch, the first phase, in which the claim asks small LR to memorise the patch)
calibration_seed: int = None  # calibration seed (never a reported seed)
memorised: float = None  # patch-only accuracy that counts as memorised (our threshold)
near_chance: float = None  # patch-only accuracy that counts as not fitted (chance is 0.1)
reference_fractions: list = None  # clean-only reference runs (large LR + anneal, same SGD steps) on these fractions of the images: 20% clean, 84% clean plus mixed (survey report's effective-sample reading)
method_references: bool = None  # also train the clean-only references with small LR's and small LR + noise's own schedules (same fractions and SGD steps), to read each method against references trained as it was
workers: int = None  # parallel training processes, one torch thread each

# %% tags=["remove-input"]
import lrgap_nb as lg

cfg = lg.configure("patch", globals())
out = lg.outputs("patch")
cfg

# %% [markdown]
# ## The construction (official `data_util.py` and `train_patches.py`)
#
# - One vector $z = \sigma_z\,N(0, I)$ of shape 3×7×7 is **shared by all classes**
#   ($\sigma_z = 1.25$), and each class $c$ has a small pattern $\zeta_c \sim U[-\beta, \beta]$
#   ($\beta = 0.1$): `pm_sym_pattern`.
# - The patch goes in the centre: rows and columns 12–18 (`int(16 − 7/2) = 12`), written **after**
#   normalisation, so its values are in normalised units.
# - A *mixed* example keeps its image and has the centre block overwritten by
#   $z \pm \zeta_{\text{label}}$, the sign redrawn every time it is served. A *patch-only* example
#   is all zeros except for $z \pm \alpha\,u\,\zeta_{\text{label}}$, $u \sim U(0, 1)$ redrawn too,
#   $\alpha = 1.75$.
# - As in the official `PatchAugmentFixed`, which images carry a patch is fixed when the set is
#   built (80% of them; the other 20% stay clean), and whether a patched image is served
#   patch-only is **redrawn at every serve** with probability 0.2 (`if np.random.random() >
#   patch_only_prob` serves it mixed). So every patched image shows its CIFAR content in 80% of
#   serves, and in expectation 16% of the served examples are patch-only and 64% mixed.
# - Validation: the clean test set; a *mixed* test set with the same mixture; and a
#   *patch-only* set of zero images with random labels served through the same rule as the
#   official `TransformOnlyDataset` (the $\alpha$-scaled patch with probability 0.2, otherwise the
#   full $z \pm \zeta$). Evaluation serves every set with a fixed generator, so it is repeatable.
#
# `tests/test_patch.py` checks each of these statements on the tensors. Every setting is part of
# the dataset's name, so it enters the results cache's key.

# %% tags=["hide-input"] mystnb={"figure": {"name": "fig-patch-examples", "caption": "Training examples as the network sees them at one serve (un-normalised for display): clean, patch-only and mixed; the 7\u00d77 patch sits in rows and columns 12\u201318."}}
served = lg.patch.runs.examples_run(cfg).execute().payload  # cached: no dataset needed
titles = [lg.patch.dataset.KIND_NAMES[k] for k in served["kinds"]]
ax = lg.patch.figures.examples(served["images"], titles, columns=4)
out.figure(ax, "fig-patch-examples")

# %% [markdown]
# ## What runs at this profile
#
# **Methods (official `train_patches.py`).** Large LR 0.1 annealed to 0.004 at epoch 30; LR 0.004
# throughout; LR 0.004 with pre-activation noise 0.4 annealed to $4\cdot10^{-6}$ at epoch 30; 60
# epochs; SGD with Nesterov momentum 0.9, weight decay $5\cdot10^{-4}$, batch 128, no
# augmentation, WRN-16-10. The official code counts epochs from 1 and anneals when
# `epoch >= 30`, which is our 0-based epoch 29. Below `full` the clean images are the real
# {ref}`5,085-image CIFAR-10 subset <cifar10-subset>` and the network narrower; the official code
# keeps the checkpoint with the best mixed validation accuracy, so we report that epoch beside the
# last. Where the profile lists settings to calibrate, small LR trains on a calibration seed
# (never reported) with each small rate in turn and, for each, each strength $\beta$ in turn;
# the first setting that lets it memorise the patch is used, and large LR + anneal then anneals
# to that small rate, as the official 0.1 anneals to 0.004 (the survey report found that
# changing the patch settings much makes both rates either ignore the patch or overfit to it).
# On the subset an epoch is a tenth of the official number of SGD steps, so a rate tuned for
# 50,000 images may learn far too little here. Each calibration run lasts the first phase (the
# epochs before the anneal), the span in which the claim asks small LR to memorise the patch.
# At `overnight` the calibration first ran 10 epochs: only small LR 0.04 with $\beta = 0.4$
# memorised, and with that patch large LR + anneal on the first reported seed learned it before
# the anneal. We then set each calibration run to the first phase's length, as the claim is
# stated; the table and the figure below are that calibration. The change was made after seeing
# that run, which is not reported. The clean-only references train large LR + anneal on a random
# 20% and 84% of the clean images, for as many SGD steps as the patched runs.
# This profile's settings:

# %%
out.table(lg.patch.tables.settings_table(cfg), "settings")

# %%
results = lg.execute("patch", cfg)  # from the results cache when present
listed, chosen = lg.patch.runs.calibration(cfg)
calibration = lg.train.histories(listed, results)  # (small LR, beta) -> history
hist = lg.train.histories(lg.patch.runs.main_configs(cfg), results)
references = lg.train.histories(lg.patch.runs.reference_configs(cfg), results)
scale = lg.patch.tables.scale(cfg, chosen)

# %% [markdown]
# **Discarded runs (`overnight`),** listed so that the verdicts labelled exploratory can be
# weighed; neither is in the results cache, and no number on this page comes from them:
#
# - the first calibration, 10 epochs per setting (small LR 0.004, then 0.04, each with
#   $\beta$ = 0.1, 0.2, 0.4): replaced by the calibration over the first phase below;
# - large LR + anneal on report seed 0 with that calibration's choice (small LR 0.04,
#   $\beta = 0.4$): it learned the patch before the anneal, which prompted the change.

# %% [markdown]
# ## Calibration of the small rate and the patch strength

# %% tags=["remove-input"]
out.glue(**lg.patch.tables.calibration_facts(cfg, chosen, calibration))

# %% [markdown]
# The runs below use small LR {glue:text}`chosen_lr` with $\beta$ = {glue:text}`chosen_beta`:
# {glue:text}`calibration_choice`. Large LR + anneal starts at {glue:text}`lr_large` and anneals
# to {glue:text}`anneal_to`. Each setting tried, in order (none at a profile without a
# calibration):

# %%
calibration_table = lg.patch.tables.calibration_table(calibration, chosen, cfg.memorised)
out.table(calibration_table, "calibration")

# %% tags=["hide-input"] mystnb={"figure": {"name": "fig-patch-calibration", "caption": "The calibration runs: small LR on the calibration seed, one line per (small LR, patch strength) tried, train accuracy (left) and patch-only validation accuracy (right) against epochs; the dashed line is the patch-only accuracy that counts as memorised."}}
if calibration:
    axes = lg.patch.figures.calibration_curves(calibration, cfg.memorised)
    out.figure(axes, "fig-patch-calibration")

# %% [markdown]
# ## Clean and patch-only validation accuracy against epochs (survey Figure 5)

# %% tags=["hide-input"] mystnb={"figure": {"name": "fig-patch-curves", "caption": "Validation accuracy on clean images (left) and on patch-only images (right) for the three methods; lines are means and bands the mean \u00b1 one standard deviation across seeds; the dotted line marks the anneal. Paper: small LR fits the patch at once, the other two only after the anneal, and small LR ends lowest on clean images."}}
axes = lg.patch.figures.accuracy_curves(hist, cfg.anneal_epoch)
out.figure(axes, "fig-patch-curves")

# %% [markdown]
# Just before the anneal, the mechanism predicts a high patch-only accuracy for small LR and
# chance (10%) for the other two:

# %%
phases = lg.patch.tables.phase_table(hist, cfg.anneal_epoch)
out.table(phases, "before_anneal")

# %% [markdown]
# ## Final mixed and clean validation accuracy against the papers
#
# Ours at the last epoch and at the epoch the official code keeps (best mixed validation
# accuracy), mean ± sample std over seeds.

# %%
final = lg.patch.tables.final_table(hist, scale)
out.table(final, "final")

# %% [markdown]
# ## How many images does each method learn from?
#
# The survey report compares small LR's clean accuracy on the patched data with clean models
# trained on fewer images. With the patch memorised, small LR learns the images only from the
# 20% clean examples; large LR, which cannot fit the patch before the anneal, learns from the
# clean and the mixed ones (84%). The references train on exactly those fractions of clean
# images. The reading assumes the mechanism: where the claims above find small LR not memorising
# the patch, or large LR learning it before the anneal, the comparison still describes the runs
# but no longer measures how many images each method ignored.
#
# The survey report trains its references with large LR + anneal only, so a small LR that ends
# below them could be short of images or simply trained with a worse schedule. The rows after
# the first two therefore set each method against references trained with its own schedule, on
# the same fractions and for the same SGD steps. Small LR's and small LR + noise's are extra runs
# (`method_references`, e.g. `lrgap sweep patch --profile overnight -p method_references=true`);
# the table shows whichever are cached: {glue:text}`own_cached` of {glue:text}`own_planned` here.

# %%
own = lg.patch.runs.cached_own_references(cfg)
reference_table = lg.patch.tables.reference_table(hist, references, own)
out.table(reference_table, "effective_samples")

# %% tags=["remove-input"]
out.glue(own_cached=len(own), own_planned=len(lg.patch.runs.own_reference_configs(cfg)))

# %% [markdown]
# ## The claims
#
# The mechanism first, as thresholds judged on the 95% interval of the seeds' mean: small LR
# memorises the patch before the anneal (patch-only accuracy at least `memorised`), large LR
# stays near chance until then (at most `near_chance`) and learns the patch soon after the anneal.
# Then the outcome: each of the other two methods against small LR on clean images, seed by
# seed. Times are given in SGD steps beside epochs: on the subset an epoch is about a tenth of
# the paper's. Each claim after the first has a premise and reads "precondition not met" without
# it: "near chance" means something only if the patch can be learnt before the anneal at all
# (some method's highest patch-only accuracy reaches `memorised`); "learns it soon after the
# anneal" needs a large LR that had not learnt it before; the clean-accuracy outcome needs the
# mechanism the paper explains it by, small LR memorising the patch first. These premises were
# revised after the `overnight` seeds 0 and 1 came in (until then every claim after the first
# needed small LR to memorise the patch, which turned a large LR that learns the patch *before*
# the anneal into "precondition not met" instead of the refutation it is), and the calibration
# length after seed 0: at `overnight` every claim is therefore labelled exploratory. Every claim
# is about the paper's patch ($\beta = 0.1$): where the calibration had to strengthen it for a
# narrow network to memorise it at all, the task is a different one, and the claims read
# "precondition not met" rather than count as evidence against the paper.

# %%
claim_runs = lg.patch.claims.Runs(
    hist, cfg.anneal_epoch, lg.patch.tables.steps_per_epoch(cfg), 100 * cfg.memorised,
    100 * cfg.near_chance, chosen.beta, f"{scale} ({cfg.profile})",
    lg.patch.claims.POST_HOC.get(cfg.profile, ""),
)  # fmt: skip
claims = lg.patch.claims.claims(claim_runs)

# %% [markdown]
# ## At the paper's width, on the subset (GPU)
#
# The same experiment with the paper's network (WRN-16-10), patch ($\beta = 0.1$) and schedule
# (60 epochs, anneal at epoch 30), on the same 5,085-image subset: the `paper-subset` profile,
# run on a GPU by the prepared check (`python -m lrgap_nb.gpu_check`) and committed. The page shows
# whichever of these runs are cached, never trains them here, and judges the claims on them by the
# same rule: fewer than three seeds read "inconclusive" with the values printed. On the subset an
# epoch is about a tenth of the paper's SGD steps, so the anneal at epoch 30 comes after about
# 1,200 steps where the paper's comes after about 11,700; the claims give both.

# %%
paper_cfg, paper_hist = lg.patch.runs.cached_main("paper-subset")
paper_scale = f"{lg.patch.tables.scale(paper_cfg)} (paper-subset, GPU)"
paper_claims = lg.patch.claims.claims(
    lg.patch.claims.Runs(
        paper_hist, paper_cfg.anneal_epoch, lg.patch.tables.steps_per_epoch(paper_cfg),
        100 * paper_cfg.memorised, 100 * paper_cfg.near_chance, paper_cfg.beta, paper_scale,
    )
) if paper_hist else []  # fmt: skip

# %% tags=["remove-input"]
out.glue(
    **lg.patch.tables.paper_width_facts(paper_hist, paper_cfg),
    pw_planned=len(lg.patch.runs.main_configs(paper_cfg)),
    pw_memorise_verdict=paper_claims[0].label if paper_claims else "not run",
)

# %% [markdown]
# {glue:text}`pw_runs` of the {glue:text}`pw_planned` paper-width runs of the three methods are
# cached ({glue:text}`pw_seeds` seeds); the two tables below show them (and are absent when none
# is), and their claims join the table after them.

# %%
if paper_hist:
    phases_gpu = lg.patch.tables.phase_table(paper_hist, paper_cfg.anneal_epoch)
    out.table(phases_gpu, "paper_width_before_anneal")

# %%
if paper_hist:
    final_gpu = lg.patch.tables.final_table(paper_hist, paper_scale)
    out.table(final_gpu, "paper_width_final")

# %%
lg.report.save_claims("patch", claims + paper_claims)

# %% [markdown]
# **The paper-width runs read together** (means over the cached seeds; "—" where a method has
# none). After epoch {glue:text}`pw_anneal_epoch`, {glue:text}`pw_anneal_steps` SGD steps, small
# LR's patch-only accuracy is {glue:text}`pw_small_patch_before`%, and at the end of training
# {glue:text}`pw_small_patch_last`%; large LR + anneal's ends at {glue:text}`pw_large_patch_last`%;
# small LR + noise's goes from {glue:text}`pw_noise_patch_before`% before the anneal to
# {glue:text}`pw_noise_patch_last`% at the end. On clean images large LR + anneal ends at
# {glue:text}`pw_large_clean_last`%, small LR at {glue:text}`pw_small_clean_last`% and small LR +
# noise at {glue:text}`pw_noise_clean_last`%. The claim that small LR memorises the patch *before*
# the anneal reads **{glue:text}`pw_memorise_verdict`**, and the clean-accuracy claims rest on it:
# a gap in clean accuracy counts as the paper's effect only when the mechanism the paper explains
# it by is seen. The subset gives the first phase about a tenth of the paper's SGD steps, so a
# small LR that memorises the patch only after the anneal point, and a large LR that has not
# learnt it by the end of training, are what phases a tenth as long as the paper's would
# produce; only runs on all 50,000 images (profile `full`) can say whether the paper's timing
# holds.

# %% [markdown]
# ## Provenance and downloads
#
# One row per kind of run and device (wall time per run and in total), then every run's wall
# time. The `overnight` runs
# were computed once, in one single-threaded background process on a shared two-core machine
# over several sessions (each run resumable from its per-epoch checkpoint), and committed.

# %%
provenance = lg.report.provenance_table(results.values(), profile=cfg.profile)
out.table(provenance, "provenance")

# %%
wall_times = lg.runs.wall_times(lg.patch.runs.groups(cfg), results)
out.table(wall_times, "wall_times")

# %%
lg.downloads("patch")
