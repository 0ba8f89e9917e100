"""Chapter parameters: one frozen dataclass per chapter, filled from a profile and validated.

Every notebook's `parameters` cell starts with `profile`; anything else left at `None` takes the
profile's default. Validation happens before any work, so a typo fails in the first second.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from typing import Any, TypeVar

PROFILES = ("smoke", "cpu", "full")

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


def check_profile(profile: Any) -> str:
    if profile not in PROFILES:
        raise ParameterError(
            f"parameter 'profile' is {profile!r}; allowed values: {', '.join(PROFILES)}"
        )
    return profile


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


def _check_field(field: dataclasses.Field, annotation: Any, value: Any) -> Any:
    name = field.name
    if not _type_ok(value, annotation):
        type_name = getattr(annotation, "__name__", str(annotation))
        raise ParameterError(
            f"parameter {name!r} must be of type {type_name}, got {value!r} ({type(value).__name__})"
        )
    meta = field.metadata
    if "choices" in meta and value not in meta["choices"]:
        allowed = ", ".join(repr(c) for c in meta["choices"])
        raise ParameterError(f"parameter {name!r} is {value!r}; allowed values: {allowed}")
    if "min" in meta and value is not None:
        values = value if isinstance(value, (tuple, list)) else (value,)
        low, inclusive = meta["min"], meta.get("min_inclusive", True)
        for v in values:
            if v < low or (v == low and not inclusive):
                bound = f">= {low}" if inclusive else f"> {low}"
                raise ParameterError(f"parameter {name!r} is {value!r}; it must be {bound}")
    if isinstance(annotation, type) and annotation is float and isinstance(value, int):
        return float(value)
    if isinstance(value, list):
        return tuple(value)
    return value


def resolve(
    cls: type[T],
    profile: str,
    defaults: Mapping[str, Mapping[str, Any]],
    overrides: Mapping[str, Any] | None = None,
) -> T:
    """Build `cls` from the profile's defaults plus explicit overrides, validating every field.

    Overrides equal to None mean "use the profile default", matching the notebooks' parameters cells.
    """
    check_profile(profile)
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    given = {k: v for k, v in (overrides or {}).items() if v is not None}
    unknown = sorted(set(given) - set(fields))
    if unknown:
        raise ParameterError(
            f"unknown parameter(s) {', '.join(unknown)} for {cls.__name__}; "
            f"known: {', '.join(sorted(fields))}"
        )
    values = {"profile": profile, **defaults[profile], **given}
    missing = sorted(n for n in fields if n not in values)
    if missing:
        raise ParameterError(f"{cls.__name__} has no value for {', '.join(missing)}")
    checked = {n: _check_field(f, hints[n], values[n]) for n, f in fields.items()}
    return cls(**checked)


def parse_override(text: str) -> tuple[str, Any]:
    """Parse a CLI `key=value`, reading the value as YAML so numbers and lists keep their types."""
    import yaml

    key, sep, raw = text.partition("=")
    if not sep or not key:
        raise ParameterError(f"expected key=value, got {text!r}")
    return key.strip(), yaml.safe_load(raw)
