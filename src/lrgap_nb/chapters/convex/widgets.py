"""Slider explorers of the convex chapter: precomputed for the kernel-free book, live in Jupyter.

The static explorer embeds one picture per point of a small slider grid in nested
`ipywidgets.Stack`s and links the sliders to them in the browser (`jsdlink`), so the published HTML
responds with no kernel. The live explorer recomputes gradient descent on every slider move.
"""

from __future__ import annotations

import dataclasses
import html
import io
from collections.abc import Sequence

import ipywidgets as widgets
import numpy as np
import PIL.Image
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from . import figures, maths
from .params import BETA_STAR, ConvexParams

# Slider order, labels and the candidate values of the static grid. Values are chosen so that GD
# converges on every draw of the samples; the grid always contains the chapter's own setting.
SLIDERS = {
    "lr_large": "large LR",
    "lr_small": "small LR",
    "anneal_step": "anneal step",
    "epsilon": "epsilon",
    "n_samples": "samples",
    "seed": "seed",
}
CANDIDATES: dict[str, tuple[float, ...]] = {
    "lr_large": (0.8, 1.2, 1.4),  # stable on the report's draw below 1.5
    "lr_small": (0.02, 0.05, 0.1),
    "anneal_step": (2, 4, 8),  # GD steps at the large LR
    "epsilon": (0.005, 0.01, 0.03),  # train loss at which GD stops
    "n_samples": (3, 5, 8),
    "seed": (0, 1, 2),
}
FIGSIZE = (8, 4.6)  # inches; the bottom margin holds the legend
STATIC_DPI = 60  # 480x276 px: the book embeds every leaf, so keep them small
STATIC_COLORS = 32  # palette PNG: ~13 kB a leaf instead of ~55 kB (16 breaks faint contours)
LIVE_DPI = 80


SLIDER_POINTS = 2  # values per slider in the static explorer: 3 would embed ~10 MB


def slider_grid(cfg: ConvexParams, points: int = SLIDER_POINTS) -> dict[str, tuple]:
    """`points` values per slider, spread out, always including cfg's own value.

    Starting from cfg's value, the candidate farthest in rank from those already chosen is added
    until there are `points`, so two points give the chapter's value and the opposite extreme.
    """
    grid = {}
    for name in SLIDERS:
        own = getattr(cfg, name)
        candidates = sorted({*CANDIDATES[name], own})
        chosen = [candidates.index(own)]
        while len(chosen) < min(points, len(candidates)):
            rest = [i for i in range(len(candidates)) if i not in chosen]
            chosen.append(max(rest, key=lambda i: min(abs(i - j) for j in chosen)))
        grid[name] = tuple(candidates[i] for i in sorted(chosen))
    return grid


@dataclasses.dataclass(frozen=True)
class Leaf:
    """One precomputed grid point: the figure (None when every schedule diverged) and its losses."""

    png: bytes | None
    summary: str  # HTML


class Renderer:
    """One Agg figure reused for every redraw: creating a figure costs more than drawing it."""

    def __init__(self, dpi: int, colors: int | None = None) -> None:
        self.figure = Figure(figsize=FIGSIZE, dpi=dpi)
        self.canvas = FigureCanvasAgg(self.figure)
        self.axes = self.figure.subplots(1, 2, sharex=True, sharey=True)
        self.figure.subplots_adjust(left=0.08, right=0.98, top=0.93, bottom=0.27, wspace=0.2)
        self.colors = colors  # palette size of the PNG; None keeps full colour

    def leaf(self, params: ConvexParams) -> Leaf:
        """GD with both schedules on the demo's samples, drawn; diverged schedules are named."""
        beta_star = BETA_STAR
        X, y = maths.two_point_samples(params.n_samples, params.seed, beta_star)
        schedules = maths.schedules_for(params.lr_large, params.lr_small, params.anneal_step)
        paths, lines = {}, []
        for name, schedule in schedules.items():
            try:
                paths[name] = maths.gradient_descent(X, y, schedule, params.epsilon)
            except maths.Diverged as err:
                lines.append(f"<b>{name}</b>: {html.escape(str(err))}")
                continue
            final = paths[name][-1]
            test = float(maths.population_loss(final, beta_star))
            lines.append(
                f"<b>{name}</b>: {len(paths[name]) - 1} steps, "
                f"train loss {float(maths.train_loss(final, X, y)):.4f}, "
                f"test loss {test:.4f} ({test / params.epsilon:.2f} ε)"
            )
        counts = np.sum(X, axis=0).astype(int)
        header = f"{counts[0]} samples at e1, {counts[1]} at e2. "
        summary = header + "; ".join(lines)
        if not paths:
            return Leaf(None, summary)
        for ax in self.axes:
            ax.cla()
        figures.convex_contours(X, y, beta_star, paths, axes=self.axes)
        return Leaf(self.png(), summary)

    def png(self) -> bytes:
        """The figure as PNG, reduced to a small palette when asked (a quarter of the bytes)."""
        self.canvas.draw()
        image = PIL.Image.fromarray(np.asarray(self.canvas.buffer_rgba())).convert("RGB")
        if self.colors is not None:
            image = image.quantize(colors=self.colors, method=PIL.Image.Quantize.FASTOCTREE)
        buffer = io.BytesIO()
        image.save(buffer, format="png")
        return buffer.getvalue()


def _leaf_widget(leaf: Leaf) -> widgets.VBox:
    text = widgets.HTML(leaf.summary)
    if leaf.png is None:
        return widgets.VBox([text])
    natural = widgets.Layout(align_items="flex-start")  # no upscaling blur in wide columns
    return widgets.VBox([widgets.Image(value=leaf.png, format="png"), text], layout=natural)


class StaticExplorer(widgets.VBox):
    """Sliders over a precomputed grid, linked client-side: works in the book with no kernel.

    `values` overrides the grid of any slider (default `slider_grid(cfg)`). Grid points with the
    same samples and learning rates share one picture, so a leaf is rendered and embedded once.
    """

    def __init__(self, cfg: ConvexParams, values: dict[str, Sequence] | None = None):
        grid = {**slider_grid(cfg), **(values or {})}
        self.grid = {name: tuple(grid[name]) for name in SLIDERS}
        self.renderer = Renderer(STATIC_DPI, STATIC_COLORS)
        self.shared: dict[tuple, widgets.VBox] = {}
        start = tuple(
            self.grid[n].index(getattr(cfg, n)) if getattr(cfg, n) in self.grid[n] else 0
            for n in SLIDERS
        )
        self.stacks: list[list[widgets.Stack]] = [[] for _ in SLIDERS]
        self.root = self._tree(cfg, (), start)
        self.sliders, self.links, rows = [], [], []
        for depth, (name, label) in enumerate(SLIDERS.items()):
            size, at = len(self.grid[name]), start[depth]
            slider = widgets.IntSlider(at, min=0, max=size - 1, readout=False)
            # HTML for the name and the value, not `description` or Label: those call MathJax 2's
            # typeset API, which throws under the book's MathJax 3.
            readout = widgets.Stack(
                [widgets.HTML(f"{v:g}") for v in self.grid[name]], selected_index=at
            )
            targets = [*self.stacks[depth], readout]
            self.links += [
                widgets.jsdlink((slider, "value"), (t, "selected_index")) for t in targets
            ]
            self.sliders.append(slider)
            name_box = widgets.HTML(label, layout=widgets.Layout(width="90px"))
            rows.append(widgets.HBox([name_box, slider, readout]))
        super().__init__([*rows, self.root])

    def _tree(self, cfg: ConvexParams, prefix: tuple[int, ...], start: tuple[int, ...]):
        """The Stack choosing among values of slider len(prefix), or the leaf at a full index."""
        depth = len(prefix)
        if depth == len(SLIDERS):
            return self._leaf(cfg, prefix)
        size = len(self.grid[list(SLIDERS)[depth]])
        children = [self._tree(cfg, (*prefix, i), start) for i in range(size)]
        stack = widgets.Stack(children, selected_index=start[depth])
        self.stacks[depth].append(stack)
        return stack

    def _leaf(self, cfg: ConvexParams, index: tuple[int, ...]) -> widgets.VBox:
        point = {name: self.grid[name][i] for name, i in zip(SLIDERS, index, strict=True)}
        params = dataclasses.replace(cfg, **point)
        X, _ = maths.two_point_samples(params.n_samples, params.seed, BETA_STAR)
        rates = tuple(point[n] for n in ("lr_large", "lr_small", "anneal_step", "epsilon"))
        key = (*rates, *X.sum(axis=0))  # the samples matter only through their counts
        if key not in self.shared:
            self.shared[key] = _leaf_widget(self.renderer.leaf(params))
        return self.shared[key]


def static_explorer(cfg: ConvexParams, values: dict[str, Sequence] | None = None) -> StaticExplorer:
    """The book's explorer: every slider position precomputed (see StaticExplorer)."""
    return StaticExplorer(cfg, values)


class LiveExplorer(widgets.VBox):
    """Continuous sliders that rerun GD and redraw through the kernel (Jupyter only)."""

    def __init__(self, cfg: ConvexParams):
        style = {"description_width": "90px"}
        self.cfg = cfg
        self.controls = {
            "lr_large": widgets.FloatSlider(cfg.lr_large, min=0.05, max=1.6, step=0.01),
            "lr_small": widgets.FloatSlider(cfg.lr_small, min=0.01, max=0.5, step=0.01),
            "anneal_step": widgets.IntSlider(cfg.anneal_step, min=1, max=30),
            "epsilon": widgets.FloatLogSlider(cfg.epsilon, base=10, min=-3, max=-0.5, step=0.05),
            "n_samples": widgets.IntSlider(cfg.n_samples, min=2, max=20),
            "seed": widgets.IntSlider(cfg.seed, min=0, max=50),
        }
        for name, control in self.controls.items():
            control.description = SLIDERS[name]
            control.style = style
            control.layout = widgets.Layout(width="420px")
            control.observe(self.redraw, names="value")
        self.renderer = Renderer(LIVE_DPI)
        self.image = widgets.Image(format="png")
        self.summary = widgets.HTML()
        self.redraw()
        super().__init__([*self.controls.values(), self.image, self.summary])

    def redraw(self, _change: dict | None = None) -> None:
        """Slider callback: GD for the current values, drawn into the one reused figure."""
        point = {name: control.value for name, control in self.controls.items()}
        leaf = self.renderer.leaf(dataclasses.replace(self.cfg, **point))
        self.image.value = leaf.png or b""
        self.image.layout.display = "none" if leaf.png is None else None
        self.summary.value = leaf.summary


def live_explorer(cfg: ConvexParams) -> LiveExplorer:
    """The notebook's explorer: recomputes on every slider move (see LiveExplorer)."""
    return LiveExplorer(cfg)
