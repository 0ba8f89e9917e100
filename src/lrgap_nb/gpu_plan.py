"""What the GPU check trains, part by part, in the order that completes paired comparisons first.

Every run comes from a chapter's own declarations (`chapter_config`, its `chapter_runs` and
`groups`), so a run the check brings back is exactly the entry the chapter looks up:

- "paper": the patch and large-LR chapters at profile "paper-subset" (the papers' WRN-16-10 and
  schedules on the 5,085-image subset), every run the chapters declare, three seeds;
- "widths": beyond the paper, the patch comparison at the paper's beta for WRN-16-k,
  k = 1, 2, 4, 10, three methods, two seeds;
- "large_batch": beyond the paper, C1 at the paper's width 64 with the large-batch chapter's
  overnight batch sizes (SB 25, LB 500 on 5,000 subset images), phi from several starts and the
  paper's own single-start phi on the whole training set.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from .runs import Run

PARTS = ("paper", "widths", "large_batch")
PAPER_CHAPTERS = ("patch", "large_lr")  # patch first: 60 epochs against 200
WIDTHS = (1, 2, 4, 10)  # WRN-16-k of the width sweep
WIDTH_SEEDS = (0, 1)
C1_WIDTH = 64  # Keskar et al. 2017, Table 1: C1's convolutions (the overnight runs used 32)


@dataclasses.dataclass(frozen=True)
class Item:
    """One run of the check: which part and chapter, what it is (group and label), its seed."""

    part: str
    chapter: str
    group: str  # the chapter's name for its runs' purpose ("main", "data size", ...)
    label: str  # method or setting
    seed: int
    run: Run


def check_parts(parts: Sequence[str]) -> tuple[str, ...]:
    """The parts asked for, validated before any work (an unknown name fails at once)."""
    unknown = [p for p in parts if p not in PARTS]
    if unknown or not parts:
        raise ValueError(f"unknown part(s) {unknown or parts!r}; parts: {', '.join(PARTS)}")
    return tuple(dict.fromkeys(parts))


def chapter_items(
    part: str, name: str, profile: str, overrides: Mapping[str, Any], label: str = ""
) -> list[Item]:
    """Every run chapter `name` declares at `profile`, labelled by the chapter's own groups."""
    from .chapters import chapter_config, get_chapter

    chapter = get_chapter(name)
    cfg = chapter_config(name, profile, **overrides)
    where: dict[Any, tuple[str, str]] = {}  # a run in two groups belongs to the first ("main")
    for group, configs in chapter.module("runs").groups(cfg).items():
        for key, config in configs.items():
            text = ", ".join(map(str, key if isinstance(key, tuple) else (key,)))
            where.setdefault(config, (group, text))
    items = []
    for run in chapter.runs(cfg):
        config = getattr(run.config, "config", run.config)  # a gate run wraps its TrainConfig
        if not hasattr(config, "epochs"):  # no training (the patch examples): a CPU computes it
            continue
        group, key = where.get(run.config, where.get(config, ("other", "")))
        items.append(Item(part, name, group, f"{label}{key}", config.seed, run))
    return items


def paper_items(overrides: Mapping[str, Mapping[str, Any]]) -> list[Item]:
    return [
        item
        for name in PAPER_CHAPTERS
        for item in chapter_items("paper", name, "paper-subset", overrides.get(name, {}))
    ]


def width_items(overrides: Mapping[str, Mapping[str, Any]]) -> list[Item]:
    """Patch at the paper's beta and schedule, WRN-16-k; the main comparison only."""
    items = []
    for k in WIDTHS:
        settings = {"seeds": WIDTH_SEEDS, "reference_fractions": (), **overrides.get("patch", {})}
        settings["model"] = f"wrn16_{k}"
        found = chapter_items("widths", "patch", "paper-subset", settings, f"WRN-16-{k}: ")
        items += [i for i in found if i.group == "main"]
    return items


def large_batch_items(overrides: Mapping[str, Mapping[str, Any]]) -> list[Item]:
    """C1 at width 64, the overnight batch sizes, with the paper's single-start phi as well."""
    from .chapters import chapter_config
    from .chapters.large_batch import runs

    settings = {"networks": ("c1",), "conv_width": C1_WIDTH, "extra_optimizers": ()}
    settings |= overrides.get("large_batch", {})
    cfg = chapter_config("large_batch", "overnight", **settings)
    return [
        Item(
            "large_batch",
            "large_batch",
            "main",
            f"C1 width {c.model_width}, SB {c.small_batch} / LB {c.large_batch}",
            c.seed,
            Run(
                runs.KIND,
                f"{runs.__name__}:sb_lb_payload",
                dataclasses.replace(c, paper_phi=True),
                runs.PROTOCOL,
            ),
        )
        for c in runs.pair_configs(cfg)["main"]
    ]


BUILDERS = {"paper": paper_items, "widths": width_items, "large_batch": large_batch_items}


def plan(parts: Sequence[str], overrides: Mapping[str, Mapping[str, Any]]) -> list[Item]:
    """The runs of `parts`, ordered (`ordered`), each once (the width sweep's WRN-16-10 runs are
    the paper part's)."""
    items, seen = [], set()
    for part in check_parts(parts):
        for item in BUILDERS[part](overrides):
            if (item.run.kind, item.run.key) not in seen:
                seen.add((item.run.kind, item.run.key))
                items.append(item)
    return ordered(items)


def ordered(items: Sequence[Item]) -> list[Item]:
    """Part by part; in each, the main comparisons seed by seed (every method and chapter of
    seed 0 before seed 1), then the other runs seed by seed, each group in the chapter's order.

    So a check cut off by its budget leaves whole paired comparisons (same seed, all methods).
    """
    chapters = {c: i for i, c in enumerate(dict.fromkeys(i.chapter for i in items))}
    groups = {g: i for i, g in enumerate(dict.fromkeys(i.group for i in items))}
    index = {id(item): n for n, item in enumerate(items)}

    def key(item: Item) -> tuple:
        return (
            PARTS.index(item.part),
            item.group != "main",
            item.seed,
            chapters[item.chapter],
            groups[item.group],
            index[id(item)],
        )

    return sorted(items, key=key)
