"""Chapter parameters: every parameter written once, as a field of the chapter's frozen dataclass.

A field holds the parameter's type, its meaning and the paper's value (its default); a profile is
a dict of differences from the paper's setting. The notebook's `parameters` cell is generated from
the same fields (`parameters_cell`), so its comments cannot go stale. Validation happens before any
work, so a typo fails in the first second.
"""

from __future__ import annotations

import dataclasses
import math
import re
import types
import typing
from collections.abc import Mapping
from typing import Any, ClassVar, TypeVar

PROFILES = ("smoke", "cpu", "overnight", "paper-subset", "full")  # smallest to largest
# Every chapter states these; "paper-subset" (the paper's network and schedule on the 5,085-image
# CIFAR-10 subset) only the chapters that train on CIFAR-10 at the paper's width.
REQUIRED_PROFILES = ("smoke", "cpu", "overnight", "full")

T = TypeVar("T")


class ParameterError(ValueError):
    """A chapter parameter that is unknown, of the wrong type or out of range."""


def positive(**kwargs: Any) -> dict[str, Any]:
    """Field metadata: the value must be > 0 (learning rates, sizes, counts)."""
    return {"min": 0, "min_inclusive": False, **kwargs}


def non_negative(**kwargs: Any) -> dict[str, Any]:
    """Field metadata: the value must be >= 0 (weight decay, noise levels)."""
    return {"min": 0, "min_inclusive": True, **kwargs}


def choice(*options: Any) -> dict[str, Any]:
    """Field metadata: the value must be one of `options`."""
    return {"choices": options}


def param(default: Any, meaning: str, *, paper: bool = True, check: Mapping | None = None) -> Any:
    """A chapter parameter: its default is the paper's value unless `paper=False` (our choice)."""
    metadata = {"meaning": meaning, "paper": paper, **(check or {})}
    return dataclasses.field(default=default, metadata=metadata)


def check_profile(profile: Any, allowed: tuple[str, ...] = PROFILES) -> str:
    if profile not in allowed:
        raise ParameterError(
            f"parameter 'profile' is {profile!r}; allowed values: {', '.join(allowed)}"
        )
    return profile


def profiles_of(cls: type) -> tuple[str, ...]:
    """The profiles a chapter's parameter class states, smallest to largest."""
    return tuple(p for p in PROFILES if p in cls.profiles)


def _type_ok(value: Any, annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return any(_type_ok(value, arg) for arg in typing.get_args(annotation))
    if annotation is type(None):
        return value is None
    if origin in (tuple, list):
        if not isinstance(value, (tuple, list)):
            return False
        args = typing.get_args(annotation)
        item = args[0] if args else Any
        return all(_type_ok(v, item) for v in value)
    if annotation is Any:
        return True
    if annotation is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, annotation)


def _numbers(value: Any) -> list[float]:
    items = value if isinstance(value, (tuple, list)) else (value,)
    return [v for v in items if isinstance(v, (int, float)) and not isinstance(v, bool)]


def _check_field(field: dataclasses.Field, annotation: Any, value: Any) -> Any:
    name = field.name
    if not _type_ok(value, annotation):
        type_name = getattr(annotation, "__name__", str(annotation))
        raise ParameterError(
            f"parameter {name!r} must be of type {type_name}, got {value!r} ({type(value).__name__})"
        )
    if any(not math.isfinite(v) for v in _numbers(value)):
        raise ParameterError(f"parameter {name!r} is {value!r}; it must be finite")
    meta = field.metadata
    if "choices" in meta and value not in meta["choices"]:
        allowed = ", ".join(repr(c) for c in meta["choices"])
        raise ParameterError(f"parameter {name!r} is {value!r}; allowed values: {allowed}")
    if "min" in meta and value is not None:
        low, inclusive = meta["min"], meta.get("min_inclusive", True)
        for v in _numbers(value):
            if v < low or (v == low and not inclusive):
                bound = f">= {low}" if inclusive else f"> {low}"
                raise ParameterError(f"parameter {name!r} is {value!r}; it must be {bound}")
    if annotation is float and isinstance(value, int):
        return float(value)
    if isinstance(value, list):
        return tuple(value)
    return value


def validate_fields(obj: Any) -> None:
    """Check (and normalise: int to float, list to tuple) every field of a frozen dataclass."""
    hints = typing.get_type_hints(type(obj))
    for f in dataclasses.fields(obj):
        object.__setattr__(obj, f.name, _check_field(f, hints[f.name], getattr(obj, f.name)))


@dataclasses.dataclass(frozen=True)
class ChapterParams:
    """Base of every chapter's parameters: `profile` first, then the chapter's own fields.

    Subclasses set `profiles`: for each of REQUIRED_PROFILES (and optionally "paper-subset"),
    the differences from the paper's setting.
    """

    profile: str = param("full", " | ".join(PROFILES), paper=False)

    profiles: ClassVar[Mapping[str, Mapping[str, Any]]] = {}

    def __post_init__(self) -> None:
        check_profile(self.profile, profiles_of(type(self)))
        validate_fields(self)
        self.check()

    def check(self) -> None:
        """Checks across fields (a milestone past the last epoch, ...): raise ParameterError.

        Chapters override it, so everything a run would find wrong fails before a kernel starts.
        """

    def table(self):
        """Parameter, value at this profile, the paper's value and the meaning, one row each."""
        import pandas as pd

        rows = [
            {
                "parameter": f.name,
                f"value ({self.profile})": _show(getattr(self, f.name)),
                "paper": _show(f.default) if f.metadata.get("paper") else "—",
                "meaning": f.metadata.get("meaning", ""),
            }
            for f in dataclasses.fields(self)
            if f.name != "profile"
        ]
        return pd.DataFrame(rows)

    def _repr_html_(self) -> str:
        caption = f"<p><strong>Parameters at profile <code>{self.profile}</code></strong></p>"
        return caption + self.table().to_html(index=False, border=0)


def _show(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, tuple):
        return ", ".join(map(str, value)) or "none"
    return str(value)


def resolve(cls: type[T], profile: str, overrides: Mapping[str, Any] | None = None) -> T:
    """Build `cls` at `profile` plus explicit overrides (None means "the profile's value")."""
    check_profile(profile, profiles_of(cls))
    fields = {f.name for f in dataclasses.fields(cls)}
    given = {k: v for k, v in (overrides or {}).items() if v is not None}
    unknown = sorted(set(given) - fields)
    if unknown:
        raise ParameterError(
            f"unknown parameter(s) {', '.join(unknown)} for {cls.__name__}; "
            f"known: {', '.join(sorted(fields))}"
        )
    return cls(**{**cls.profiles[profile], **given, "profile": profile})


def _annotation(hint: Any) -> str:
    """The type papermill shows for a parameter (`--help-notebook`): a plain name, no `| None`."""
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    if typing.get_origin(hint) in (typing.Union, types.UnionType) and len(args) == 1:
        return _annotation(args[0])
    if typing.get_origin(hint) in (tuple, list):
        return "list"
    return getattr(hint, "__name__", "object")


def parameters_cell(cls: type) -> str:
    """The notebook's `parameters` cell, generated from the dataclass (see `lrgap pair`)."""
    hints = typing.get_type_hints(cls)
    profiles = " | ".join(profiles_of(cls))
    lines = [f'profile: str = "smoke"  # {profiles}; each None takes its value']
    for f in dataclasses.fields(cls):
        if f.name == "profile":
            continue
        paper = f" (paper: {_show(f.default)})" if f.metadata.get("paper") else ""
        meaning = f.metadata.get("meaning", "")
        lines.append(f"{f.name}: {_annotation(hints[f.name])} = None  # {meaning}{paper}")
    return "\n".join(lines)


_INT = re.compile(r"[+-]?[0-9]+")
_FLOAT = re.compile(
    r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?|[+-]?(nan|inf|infinity)", re.I
)
_BOOLS = {"true": True, "false": False}
_NOT_A_VALUE = ("none", "null", "~")


def _scalar(key: str, raw: str) -> Any:
    """A number as a number (base 10: 010 is 10), true/false as a bool, anything else a string."""
    text = raw.strip()
    if not text:
        raise ParameterError(f"parameter {key!r} has an empty value; give one or leave it out")
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    if _INT.fullmatch(text):
        return int(text, 10)
    if _FLOAT.fullmatch(text):
        return float(text)
    if text.lower() in _BOOLS:
        return _BOOLS[text.lower()]
    if text.lower() in _NOT_A_VALUE:
        raise ParameterError(
            f"parameter {key!r} is {text!r}: leave the parameter out to keep the profile's value"
        )
    if any(c in text for c in "[](){},"):
        raise ParameterError(f"parameter {key!r}: cannot read {raw!r} (a list is [a, b, ...])")
    return text


def parse_override(text: str) -> tuple[str, Any]:
    """Parse a CLI `key=value`: numbers stay numbers, `[a, b]` is a list; no YAML 1.1 surprises.

    `010` is 10 (not octal 8), `1e-3` a float, `yes` and `1:30` strings (so a bool or int
    parameter rejects them by name), an empty value an error. Every failure is one
    ParameterError naming the parameter.
    """
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ParameterError(f"expected key=value, got {text!r}")
    if not key.isidentifier():
        raise ParameterError(f"{key!r} is not a parameter name (in {text!r})")
    value = raw.strip()
    if value[:1] in "[(" and value:
        closing = "]" if value[0] == "[" else ")"
        if value[-1] != closing:
            raise ParameterError(f"parameter {key!r}: list {raw!r} does not end with {closing!r}")
        inner = value[1:-1].strip()
        return key, [_scalar(key, item) for item in inner.split(",")] if inner else []
    return key, _scalar(key, value)
