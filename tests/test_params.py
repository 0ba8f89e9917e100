import dataclasses
import math

import pytest

from lrgap_nb.chapters import chapter_config, registry
from lrgap_nb.params import (
    PROFILES,
    REQUIRED_PROFILES,
    ParameterError,
    parameters_cell,
    parse_override,
    profiles_of,
)


@pytest.mark.parametrize("name", list(registry()))
@pytest.mark.parametrize("profile", PROFILES)
def test_every_chapter_resolves_at_every_profile_it_states(name, profile):
    if profile not in profiles_of(registry()[name].params_class()):
        with pytest.raises(ParameterError, match=f"'profile' is '{profile}'"):
            chapter_config(name, profile)
        return
    cfg = chapter_config(name, profile)
    assert cfg.profile == profile
    assert dataclasses.is_dataclass(cfg)


def test_paper_subset_is_the_papers_setting_on_the_subset():
    for name in ("patch", "large_lr"):
        subset, full = chapter_config(name, "paper-subset"), chapter_config(name, "full")
        assert subset.dataset == "cifar10_subset" and full.dataset == "cifar10"
        assert (subset.model, subset.model_width, subset.epochs) == (
            full.model, full.model_width, full.epochs
        )  # fmt: skip


@pytest.mark.parametrize("chapter", list(registry().values()), ids=lambda c: c.name)
def test_profiles_are_differences_from_the_papers_setting(chapter):
    cls = chapter.params_class()
    names = {f.name for f in dataclasses.fields(cls)}
    assert set(REQUIRED_PROFILES) <= set(cls.profiles) <= set(PROFILES)
    for profile, differences in cls.profiles.items():
        assert set(differences) <= names - {"profile"}, profile
        defaults = {f.name: f.default for f in dataclasses.fields(cls)}
        assert all(defaults[k] != v for k, v in differences.items()), (
            f"{profile} restates a default"
        )


@pytest.mark.parametrize("chapter", list(registry().values()), ids=lambda c: c.name)
def test_every_parameter_states_its_meaning(chapter):
    for field in dataclasses.fields(chapter.params_class()):
        assert field.metadata.get("meaning"), field.name


def test_parameters_cell_lists_meaning_and_papers_value():
    cell = parameters_cell(registry()["convex"].params_class())
    lines = cell.splitlines()
    assert lines[0].startswith('profile: str = "smoke"')
    assert (
        "gauss_lr_large: float = None  # initial LR in the Gaussian experiment (paper: 0.1)"
        in lines
    )
    assert "lr_large_sweep: list = None  # further initial LRs on the same datasets" in lines


def test_overrides_replace_profile_defaults_and_none_keeps_them():
    cfg = chapter_config("convex", "smoke", lr_large=1.2, epsilon=None)
    assert cfg.lr_large == 1.2
    assert cfg.epsilon == chapter_config("convex", "smoke").epsilon


def test_profile_values_apply_and_the_paper_value_is_the_default():
    assert chapter_config("convex", "smoke").gauss_repeats == 200
    cls = registry()["convex"].params_class()
    assert {f.name: f.default for f in dataclasses.fields(cls)}["gauss_repeats"] == 10


def test_int_is_accepted_for_float_and_converted():
    cfg = chapter_config("convex", "smoke", lr_small=1)
    assert isinstance(cfg.lr_small, float)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"lr_large": -0.1}, "'lr_large' is -0.1; it must be > 0"),
        ({"lr_small": 0}, "'lr_small' is 0; it must be > 0"),
        ({"lr_large": math.nan}, "'lr_large' is nan; it must be finite"),
        ({"lr_large": math.inf}, "'lr_large' is inf; it must be finite"),
        ({"lr_large_sweep": [0.1, math.nan]}, "'lr_large_sweep'"),
        ({"anneal_step": 2.5}, "'anneal_step' must be of type int"),
        ({"epsilon": "small"}, "'epsilon' must be of type float"),
        ({"n_samples": True}, "'n_samples' must be of type int"),
        ({"lr_large_sweep": [0.1, -1.0]}, "'lr_large_sweep'"),
        ({"learning_rate": 0.1}, "unknown parameter(s) learning_rate"),
    ],
)
def test_bad_parameters_fail_with_the_parameter_named(overrides, message):
    with pytest.raises(ParameterError) as err:
        chapter_config("convex", "smoke", **overrides)
    assert message in str(err.value)


def test_unknown_profile_lists_the_allowed_ones():
    with pytest.raises(ParameterError, match="allowed values: smoke, cpu, overnight, full"):
        chapter_config("convex", "laptop")
    with pytest.raises(ParameterError, match="overnight, paper-subset, full"):
        chapter_config("patch", "laptop")


def test_unknown_chapter():
    with pytest.raises(ParameterError, match="unknown chapter 'nope'"):
        chapter_config("nope", "smoke")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("lr_large=1.2", ("lr_large", 1.2)),
        ("seed=3", ("seed", 3)),
        ("lr_large_sweep=[0.1, 0.5]", ("lr_large_sweep", [0.1, 0.5])),
        ("profile=cpu", ("profile", "cpu")),
    ],
)
def test_cli_overrides_keep_their_types(text, expected):
    assert parse_override(text) == expected


def test_cli_override_without_equals_sign_is_rejected():
    with pytest.raises(ParameterError, match="expected key=value"):
        parse_override("lr_large")


def test_a_chapter_without_paper_subset_builds_at_its_largest_profile_below():
    from lrgap_nb import cli

    assert cli.nearest_profile("convex", "paper-subset") == "overnight"
    assert cli.nearest_profile("patch", "paper-subset") == "paper-subset"
    assert cli.nearest_profile("convex", "full") == "full"
