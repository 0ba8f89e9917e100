"""Bad values on the command line and in configs: one clear line before any work starts."""

from __future__ import annotations

import pytest
from faults import one_line

from lrgap_nb import cli
from lrgap_nb.book import run as book_run
from lrgap_nb.params import ParameterError, parse_override
from lrgap_nb.train import TrainConfig

pytestmark = pytest.mark.usefixtures("isolated_root")

# --- values ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("seed=010", 10),  # YAML 1.1: octal 8
        ("lr_large=1e-3", 0.001),  # YAML 1.1: the string "1e-3"
        ("lr_large=1E3", 1000.0),
        ("lr_large=.5", 0.5),
        ("seed=+7", 7),
        ("augment=yes", "yes"),  # YAML 1.1: True
        ("augment=on", "on"),
        ("augment=true", True),
        ("seed=1:30", "1:30"),  # YAML 1.1: sexagesimal 90
        ("lr_large_sweep=[1e-3, 010]", [0.001, 10]),
        ("eval_sets=[test, train]", ["test", "train"]),
        ("eval_sets=[]", []),
        ("name='010'", "010"),
    ],
)
def test_cli_values_are_read_as_numbers_not_yaml_1_1(text, expected):
    assert parse_override(text)[1] == expected
    assert type(parse_override(text)[1]) is type(expected)


GOOD_NOTEBOOK = "a good chapter notebook, built at cpu"

BAD_VALUES = [  # (-p options, what the one-line error says)
    (["lr_large=nan"], "parameter 'lr_large' is nan; it must be finite"),
    (["lr_large=inf"], "parameter 'lr_large' is inf; it must be finite"),
    (["lr_large=-inf"], "parameter 'lr_large' is -inf; it must be finite"),
    (["lr_large_sweep=[0.1, nan]"], "parameter 'lr_large_sweep' is [0.1, nan]; it must be finite"),
    (["lr_large="], "parameter 'lr_large' has an empty value"),
    (["lr_large_sweep=[0.1,,0.2]"], "parameter 'lr_large_sweep' has an empty value"),
    (["seed=yes"], "parameter 'seed' must be of type int, got 'yes'"),
    (["seed=1:30"], "parameter 'seed' must be of type int, got '1:30'"),
    (["seed=-1"], "parameter 'seed' is -1; it must be >= 0"),
    (["lr_large_sweep=[0.1, 0.2"], "parameter 'lr_large_sweep': list '[0.1, 0.2' does not end"),
    (["lr_large_sweep=[[0.1]]"], "parameter 'lr_large_sweep': cannot read '[0.1]'"),
    (["lr_large_sweep={a: 1}"], "parameter 'lr_large_sweep': cannot read '{a: 1}'"),
    (["anneal_step=none"], "parameter 'anneal_step' is 'none': leave the parameter out"),
    (["epsilon=0x10"], "parameter 'epsilon' must be of type float, got '0x10'"),
    (["gauss_repeats=1e11"], "parameter 'gauss_repeats' must be of type int"),
    (["gauss_repeats=100000000000"], "parameter 'gauss_repeats' is 100000000000: "),
    (["seed=1", "seed=2"], "parameter 'seed' is given twice"),
    (["lr large=1"], "'lr large' is not a parameter name"),
    (["=1"], "expected key=value, got '=1'"),
    (["learning_rate=0.1"], "unknown parameter(s) learning_rate"),
]


@pytest.mark.parametrize("command", ["run", "sweep"])
@pytest.mark.parametrize(("options", "message"), BAD_VALUES, ids=lambda v: str(v))
def test_bad_values_fail_in_one_line_before_a_kernel(
    command, options, message, isolated_root, no_kernel, capsys
):
    book = isolated_root / "book" / "01_convex.ipynb"
    book.write_text(GOOD_NOTEBOOK)
    argv = (
        [command, "convex", "--executor", "inprocess"]
        if command == "sweep"
        else [command, "convex"]
    )
    for option in options:
        argv += ["-p", option]
    assert cli.main(argv) == 2
    line = one_line(capsys.readouterr().err)
    assert line.startswith("lrgap: ") and message in line
    assert book.read_text() == GOOD_NOTEBOOK
    assert not (isolated_root / "cache").exists()  # nothing computed


def test_memory_cap_names_what_the_size_would_take():
    with pytest.raises(ParameterError, match=r"take at least [\d,.]+ GiB of memory"):
        book_run.chapter_config("convex", "smoke", gauss_repeats=10**11)


@pytest.mark.parametrize("workers", ["0", "-3", "two", "1.5"])
def test_workers_must_be_a_positive_integer(workers, capsys):
    with pytest.raises(SystemExit) as stop:
        cli.parser().parse_args(["sweep", "convex", "--workers", workers])
    assert stop.value.code == 2
    assert "argument --workers" in capsys.readouterr().err
    assert cli.parser().parse_args(["sweep", "convex", "--workers", "3"]).workers == 3


@pytest.mark.parametrize("field", ["lr", "momentum", "weight_decay"])
@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_training_configs_refuse_non_finite_values(field, value):
    with pytest.raises(ValueError, match=f"'{field}' is {value}; it must be finite"):
        TrainConfig("f1", "mnist", **{field: value})
