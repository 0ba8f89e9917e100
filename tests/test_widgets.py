"""The convex chapter's slider explorers: grid, nested Stacks, links, leaves, divergence."""

import dataclasses
import math

import ipywidgets as widgets
import pytest

import lrgap_nb as lg
from lrgap_nb.chapters.convex import maths as convex
from lrgap_nb.chapters.convex.params import BETA_STAR
from lrgap_nb.chapters.convex.widgets import (
    SLIDER_POINTS,
    SLIDERS,
    LiveExplorer,
    slider_grid,
    static_explorer,
)

# A small grid (8 points) so the tests precompute in about a second.
SMALL = {"lr_large": (0.8, 1.4), "anneal_step": (2, 4), "seed": (0, 2)}


@pytest.fixture(scope="module")
def cfg():
    return lg.chapter_config("convex", profile="smoke")


@pytest.fixture(scope="module")
def explorer(cfg):
    return static_explorer(cfg, {name: (getattr(cfg, name),) for name in SLIDERS} | SMALL)


def leaves(node, depth=0):
    """Every leaf under a Stack tree, in index order."""
    if depth == len(SLIDERS):
        return [node]
    return [leaf for child in node.children for leaf in leaves(child, depth + 1)]


def select(explorer, index):
    """Move the sliders, then do what the browser does with the jsdlinks."""
    for slider, i in zip(explorer.sliders, index, strict=True):
        slider.value = i
    for link in explorer.links:
        (source, source_attr), (target, target_attr) = link.source, link.target
        setattr(target, target_attr, getattr(source, source_attr))
    node = explorer.root
    for _ in SLIDERS:
        node = node.children[node.selected_index]
    return node


@pytest.mark.parametrize("profile", ["smoke", "cpu"])
def test_grid_has_slider_points_values_including_the_chapters_own(profile):
    cfg = lg.chapter_config("convex", profile=profile)
    grid = slider_grid(cfg)
    assert list(grid) == list(SLIDERS)
    for name, values in grid.items():
        assert len(values) == SLIDER_POINTS
        assert getattr(cfg, name) in values
        assert list(values) == sorted(values)


def test_one_leaf_per_grid_point(explorer):
    sizes = [len(explorer.grid[name]) for name in SLIDERS]
    assert len(leaves(explorer.root)) == math.prod(sizes) == 8


def test_every_link_drives_a_stack_of_its_sliders_size(explorer):
    for depth, (name, slider) in enumerate(zip(SLIDERS, explorer.sliders, strict=True)):
        links = [link for link in explorer.links if link.source[0] is slider]
        assert len(links) == len(explorer.stacks[depth]) + 1  # the picture's Stacks + readout
        assert len(explorer.stacks[depth]) == math.prod(
            len(explorer.grid[n]) for n in list(SLIDERS)[:depth]
        )
        for link in links:
            target, attr = link.target
            assert isinstance(target, widgets.Stack) and attr == "selected_index"
            assert len(target.children) == len(explorer.grid[name]) == slider.max + 1
            assert link.source[1] == "value"


@pytest.mark.parametrize("index", [(0, 0, 0, 0, 0, 0), (1, 0, 1, 0, 0, 1), (0, 0, 1, 0, 0, 1)])
def test_moving_sliders_selects_the_leaf_of_that_point(cfg, explorer, index):
    point = {name: explorer.grid[name][i] for name, i in zip(SLIDERS, index, strict=True)}
    params = dataclasses.replace(cfg, **point)
    leaf = select(explorer, index)
    image, text = leaf.children
    assert isinstance(image, widgets.Image) and bytes(image.value).startswith(b"\x89PNG")
    X, y = convex.two_point_samples(params.n_samples, params.seed, BETA_STAR)
    schedules = convex.schedules_for(params.lr_large, params.lr_small, params.anneal_step)
    for name, schedule in schedules.items():
        final = convex.gradient_descent(X, y, schedule, params.epsilon)[-1]
        test = float(convex.population_loss(final, BETA_STAR))
        assert f"test loss {test:.4f}" in text.value, (name, text.value)


def test_points_differing_in_learning_rate_show_different_pictures(explorer):
    low = select(explorer, (0, 0, 1, 0, 0, 1)).children[0].value
    high = select(explorer, (1, 0, 1, 0, 0, 1)).children[0].value
    assert low != high


def test_the_sliders_start_at_the_chapters_setting(cfg, explorer):
    start = [s.value for s in explorer.sliders]
    assert [explorer.grid[n][i] for n, i in zip(SLIDERS, start, strict=True)] == [
        getattr(cfg, n) for n in SLIDERS
    ]


def test_diverged_schedules_are_labelled(cfg):
    values = {name: (getattr(cfg, name),) for name in SLIDERS}
    both = static_explorer(cfg, values | {"lr_small": (3.0,)})  # unstable after the anneal too
    (leaf,) = leaves(both.root)
    assert [type(w) for w in leaf.children] == [widgets.HTML]  # no picture to draw
    assert leaf.children[0].value.count("diverged") == 2
    one = static_explorer(cfg, values | {"lr_large": (40.0,)})  # only the large phase blows up
    (leaf,) = leaves(one.root)
    image, text = leaf.children
    assert bytes(image.value).startswith(b"\x89PNG")
    assert "<b>large then small</b>: GD diverged" in text.value
    assert "<b>small throughout</b>: GD diverged" not in text.value


def test_live_explorer_redraws_when_a_slider_moves(cfg):
    live = LiveExplorer(cfg)
    before = (live.image.value, live.summary.value)
    live.controls["lr_large"].value = 0.8
    assert bytes(live.image.value).startswith(b"\x89PNG")
    assert (live.image.value, live.summary.value) != before
    live.controls["lr_small"].value = 0.5  # 0.5 · 2 > 1 on the steep coordinate: may diverge
    assert live.summary.value
