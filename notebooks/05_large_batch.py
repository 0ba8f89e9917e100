# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Small versus large batch: the generalisation gap and sharp minima
#
# **Claims tested** (Keskar et al. 2017, as the seed report presents them in section 2.2):
# training with a large batch (10% of the training set) instead of a small one (256) gives a lower
# test accuracy at the same train accuracy, and the large-batch solutions are *sharper*: the
# training loss rises more within a small box around them (Metric 2.1). Both batch sizes use Adam
# at a **fixed LR** of $10^{-3}$, start from the same initial weights, see inputs scaled to
# $[0, 1]$ and no augmentation. Beyond the report we measure the top Hessian eigenvalue of both
# solutions, draw Keskar's line plot between them with batch-norm statistics handled two ways,
# and rerun the report's extra tables (F1 with SGD and AdaGrad, including the AdaGrad large batch
# the report could not run; ResNet-44, VGG-16 and WRN-16-4).
#
# Every number comes from one cached run per (network, optimizer, seed): it trains SB and LB and
# measures both, so paper-scale runs made on a GPU machine travel back as cache files alone.

# %% tags=["parameters"]
profile = "smoke"  # smoke | cpu | full; every None below takes this profile's default
networks = None  # Keskar's networks to train: f1, f2, c1, c2, c3, c4 (cpu: f1, c1)
cifar10 = None  # CIFAR-10 of C1/C2: "cifar10" (full) or the real 5,085-image "cifar10_subset"
seeds = None  # one SB/LB pair per seed, same initial weights within a pair (paper: 5)
epochs = None  # epochs of SB and of LB (full: 100)
lr = None  # Adam's fixed LR for both batch sizes (paper: 1e-3)
train_subset = None  # training examples used (None: all; smoke 1000)
mlp_width = None  # F1/F2 hidden width (None: the paper's 512)
conv_width = None  # C1/C3 convolution width (None: the paper's 64; cpu 32)
train_eval_size = None  # training examples behind the final train accuracy (None: all)
probe_size = None  # fixed training examples f(x) averages over for phi and the eigenvalue
line_size = None  # fixed train and test examples on the SB-LB line
subspace_dim = None  # p of the random n x p matrix A (paper: 100)
lbfgs_iters = None  # L-BFGS-B iterations maximising f in the box (paper: 10)
power_iters = None  # power iterations for the top Hessian eigenvalue
interpolation_points = None  # alphas in [-1, 2] on the SB-LB line (paper: 25)
extra_optimizers = None  # F1 with these besides Adam: sgd, adagrad
extra_networks = None  # the report's resnet44, vgg16_bn, wrn16_4 (full only)
extra_seeds = None  # seeds of the extra runs
extra_epochs = None  # epochs of the extra runs
extra_subset = None  # training examples of the extra runs (cpu: 10,000 of MNIST)

# %%
import lrgap_nb as lg

cfg = lg.chapter_config(
    "large_batch",
    profile=profile,
    networks=networks,
    cifar10=cifar10,
    seeds=seeds,
    epochs=epochs,
    lr=lr,
    train_subset=train_subset,
    mlp_width=mlp_width,
    conv_width=conv_width,
    train_eval_size=train_eval_size,
    probe_size=probe_size,
    line_size=line_size,
    subspace_dim=subspace_dim,
    lbfgs_iters=lbfgs_iters,
    power_iters=power_iters,
    interpolation_points=interpolation_points,
    extra_optimizers=extra_optimizers,
    extra_networks=extra_networks,
    extra_seeds=extra_seeds,
    extra_epochs=extra_epochs,
    extra_subset=extra_subset,
)
cfg

# %% [markdown]
# ## Flat and sharp minima
#
# Keskar et al. (Fig. 1, the seed report's Fig. 6) sketch why sharpness could matter: if the test
# loss is the training loss moved a little, a minimum whose loss rises steeply nearby pays more
# for the move than a flat one. The sketch below is drawn from a real function, two Gaussian wells
# of equal depth, $f(w) = 1 - \sum_k d_k \exp(-(w - c_k)^2 / 2 s_k^2)$, with curvature
# $d_k / s_k^2$ at each bottom (1/0.36 = 2.8 for the flat well, 1/0.0225 = 44 for the sharp one;
# a unit test checks both by finite differences). The dashed test function is the same curve
# shifted by 0.12.

# %% tags=["hide-input"] mystnb={"figure": {"name": "fig-lb-sketch", "caption": "A flat and a sharp minimum of equal depth (solid), and the same function shifted (dashed) as a stand-in for the test loss. The red bars are the test-minus-train gaps at the two training minima."}}
ax = lg.plotting_large_batch.flat_sharp_sketch()
lg.save_figure(ax.figure, "large_batch", "flat_sharp_sketch")

# %% [markdown]
# ## The runs
#
# `lg.large_batch.chapter_runs(cfg)` lists one run per (network, optimizer, seed); each trains
# the small-batch (SB, batch 256) and the large-batch (LB, 10% of the training set) network from
# identical initial weights (the trainer seeds before it builds the network; a unit test trains
# both with a vanishing LR and finds them equal), with the same number of epochs, and then
# measures both solutions. Networks whose data is not available are left out, and their rows
# below say why. At the `cpu` profile this chapter trains F1 on the full real MNIST and C1 (at
# half its convolution width, to fit the CPU budget) on the real 5,085-image CIFAR-10 subset,
# for very few epochs: far from the paper's converged solutions, so read the numbers as a test of
# the pipeline and of what happens early in training. The `full` profile runs the paper's
# protocol (all six networks, five seeds, 100 epochs, full datasets, f averaged over the whole
# training set); no GPU was available when this chapter was written, so its numbers are not
# shown here until a GPU machine has computed them into the results cache.

# %%
runs = lg.large_batch.chapter_runs(cfg)
results = {run.config: run.execute() for run in runs}  # from the results cache when present
groups = lg.large_batch.pair_configs(cfg)
main = [results[c] for c in groups["main"]]
extras = [results[c] for c in groups["optimizers"] + groups["networks"]]
what_ran = lg.large_batch.accuracy_frame(main + extras)
lg.save_table(what_ran, "large_batch", "runs")
what_ran.round(2)

# %% [markdown]
# ## Accuracy of SB and LB (seed report Fig. 7)
#
# Train accuracy is measured after training on a fixed set of `train_eval_size` training examples
# (all of them at `full`), test accuracy on the whole test set, both in evaluation mode with batch
# statistics in the batch-norm layers, as Keskar's Keras models did. Mean ± standard deviation
# over seeds, in percent. "LB worse" needs the mean gap to exceed the seeds' spread.

# %%
accuracy = lg.large_batch.accuracy_table(what_ran[what_ran["optimizer"] == "adam"], cfg)
lg.save_table(accuracy, "large_batch", "accuracy_vs_paper")
accuracy

# %% tags=["hide-input"] mystnb={"figure": {"name": "fig-lb-curves", "caption": "Train (dashed) and test (solid) accuracy of SB and LB against epochs, mean over seeds with the min-max band. Epoch 0 is the shared initial network (evaluated); later train points are running means over the epoch's batches, as Keras reports them."}}
history = lg.large_batch.history_frame(main)
lg.save_table(history, "large_batch", "accuracy_history")
axes = lg.plotting_large_batch.accuracy_curves(history)
lg.save_figure(axes[0].figure, "large_batch", "accuracy_curves")

# %% [markdown]
# ## Sharpness (seed report Fig. 9)
#
# $\phi_{x,f}(\epsilon, A) = 100\,(\max_{y \in C_\epsilon} f(x + Ay) - f(x)) / (1 + f(x))$ with the
# box $|y_i| \le \epsilon(|(A^+x)_i| + 1)$, maximised by SciPy's L-BFGS-B for `lbfgs_iters`
# iterations from $y = 0$ (Keskar et al. 2017, Metric 2.1). $f$ is the mean cross-entropy over a
# fixed set of `probe_size` training examples (the same for SB, LB and every seed; all of them at
# `full`), with batch statistics in the batch-norm layers. The first table is the full space
# ($A = I$), beside the paper's numbers; the second a random subspace, $A$ an $n \times p$ matrix
# of standard normal entries with $p$ = `subspace_dim` (Keskar used $p = 100$; the seed report
# gives no subspace numbers).

# %%
sharp = lg.large_batch.sharpness_frame(main)
lg.save_table(sharp, "large_batch", "sharpness_runs")
probe_note = f"{main[0].payload['probe']['probe_examples']:,} train examples" if main else "-"
sharp_full = lg.large_batch.sharpness_table(sharp, "full", probe_note)
lg.save_table(sharp_full, "large_batch", "sharpness_vs_paper")
sharp_full

# %%
sharp_sub = lg.large_batch.sharpness_table(sharp, "subspace", probe_note)
sharp_sub.insert(2, "p", cfg.subspace_dim)
lg.save_table(sharp_sub, "large_batch", "sharpness_subspace")
sharp_sub

# %% [markdown]
# ## Beyond the report: the top Hessian eigenvalue
#
# Hochreiter and Schmidhuber's notion of sharpness, which Metric 2.1 approximates: the largest
# eigenvalue of the Hessian of the same $f$, by power iteration on Hessian-vector products
# (double backward), at most `power_iters` iterations.

# %%
eigen = lg.large_batch.eigenvalue_table(main)
lg.save_table(eigen, "large_batch", "top_hessian_eigenvalue")
eigen

# %% [markdown]
# ## Beyond the report: the line from SB to LB (Keskar et al. 2017, Fig. 3)
#
# Loss and accuracy along $w(\alpha) = \alpha\, w_{LB} + (1 - \alpha)\, w_{SB}$ for
# `interpolation_points` values of $\alpha \in [-1, 2]$, on fixed sets of `line_size` training
# and test examples, for the first seed. Batch normalisation has to be decided at every
# $\alpha$, and the two choices answer different questions. With **batch statistics** (Keskar's
# Keras models), each layer is renormalised by the current batch, so scaling or shifting the
# weights feeding a BN layer does not change its output: the curve shows the loss of the
# networks as they are used in training. With **recomputed running statistics**, the running
# means and variances are re-estimated on the training examples at every $\alpha$ and then held
# fixed, as a deployed network would be; the two agree where the estimate matches the batches,
# and differ where the batch statistics (of 1,024 examples at most) scatter around the
# population ones, mostly far outside $[0, 1]$ where the activations are extreme.

# %% tags=["hide-input"] mystnb={"figure": {"name": "fig-lb-line", "caption": "Cross-entropy (blue, log scale) and accuracy (red) on train (dashed) and test (solid) examples along the line from the SB solution (alpha = 0) to the LB solution (alpha = 1) and beyond, first seed, for each network; left: batch statistics in the batch-norm layers, right: running statistics recomputed at every alpha."}}
line = lg.large_batch.interpolation_frame(main)
lg.save_table(line, "large_batch", "interpolation")
import matplotlib.pyplot as plt

line_networks = list(dict.fromkeys(line["network"])) if len(line) else []
fig, grid = plt.subplots(
    len(line_networks), 2, figsize=(12, 3.8 * max(len(line_networks), 1)), squeeze=False
)
for row, network in zip(grid, line_networks, strict=True):
    lg.plotting_large_batch.interpolation(line, network, axes=row)
    row[0].set_title(f"{network.upper()}: {row[0].get_title()}")
    row[1].set_title(f"{network.upper()}: {row[1].get_title()}")
fig.tight_layout()
lg.save_figure(fig, "large_batch", "interpolation")

# %%
line_summary = lg.large_batch.interpolation_summary(line) if len(line) else line
lg.save_table(line_summary, "large_batch", "interpolation_summary")
line_summary.round(4)

# %% [markdown]
# ## The report's extra tables (section 3.2)
#
# F1 on MNIST with SGD and AdaGrad besides Adam, small versus large batch, each optimizer at a
# fixed LR for both batch sizes (SGD and AdaGrad at the Keras default 0.01, no momentum; the
# report does not give its LRs). The report could not run AdaGrad with the large batch; we do.
# Only test accuracy is reported, as in the report; at `cpu` these runs use a fixed 10,000-image
# subset of MNIST (LB batch 1,000) and one seed, the Adam row is the main table's F1.

# %%
optimizers = lg.large_batch.optimizer_table(
    what_ran[what_ran["optimizer"] == "adam"], what_ran[what_ran["optimizer"] != "adam"], cfg
)
lg.save_table(optimizers, "large_batch", "optimizers_vs_report")
optimizers

# %% [markdown]
# ResNet-44 and VGG-16 (with batch norm) on CIFAR-10 and WRN-16-4 on CIFAR-100, small versus large
# batch, Adam at the fixed LR $10^{-3}$ as the main table. The report's numbers (above 92% for
# ResNet-44) suggest it trained them with augmentation and its own schedules, which it does not
# state; these rows need the full datasets and a GPU.

# %%
networks_table = lg.large_batch.network_table(
    what_ran[what_ran["network"].isin(list(lg.large_batch.EXTRA_NETWORK_DATA))], cfg
)
lg.save_table(networks_table, "large_batch", "networks_vs_report")
networks_table

# %% [markdown]
# ## Verdict
#
# Written from the numbers above when the notebook runs:

# %%
lg.show_markdown(lg.large_batch.verdict(accuracy, sharp_full, eigen, line_summary))
scale = lg.large_batch.scale_note(cfg, what_ran[what_ran["optimizer"] == "adam"])
lg.report.save_claims("large_batch", lg.large_batch.claims(accuracy, sharp_full, eigen, scale))
# %% [markdown]
# ## Provenance and downloads

# %%
lg.report.provenance_table(results.values(), profile=cfg.profile)

# %%
lg.downloads("large_batch")
