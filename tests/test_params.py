import dataclasses

import pytest

from lrgap_nb.chapters import CHAPTERS, chapter_config
from lrgap_nb.params import PROFILES, ParameterError, parse_override


@pytest.mark.parametrize("name", list(CHAPTERS))
@pytest.mark.parametrize("profile", PROFILES)
def test_every_chapter_resolves_at_every_profile(name, profile):
    cfg = chapter_config(name, profile)
    assert cfg.profile == profile
    assert dataclasses.is_dataclass(cfg)


def test_overrides_replace_profile_defaults_and_none_keeps_them():
    cfg = chapter_config("convex", "smoke", lr_large=1.2, epsilon=None)
    assert cfg.lr_large == 1.2
    assert cfg.epsilon == chapter_config("convex", "smoke").epsilon


def test_int_is_accepted_for_float_and_converted():
    cfg = chapter_config("convex", "smoke", lr_small=1)
    assert isinstance(cfg.lr_small, float)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"lr_large": -0.1}, "'lr_large' is -0.1; it must be > 0"),
        ({"lr_small": 0}, "'lr_small' is 0; it must be > 0"),
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
    with pytest.raises(ParameterError, match="allowed values: smoke, cpu, full"):
        chapter_config("convex", "laptop")


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
