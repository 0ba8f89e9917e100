"""The flat-versus-sharp sketch (Keskar et al. 2017, Fig. 1; survey report Fig. 6): a real function
with two Gaussian wells of equal depth, so its curvatures can be checked (no torch)."""

from __future__ import annotations

import numpy as np

# Two Gaussian wells: (centre, depth, width). Curvature at a well's bottom is depth / width^2.
FLAT_WELL = (-2.0, 1.0, 0.6)
SHARP_WELL = (1.5, 1.0, 0.15)
SKETCH_SHIFT = 0.12  # test loss = train loss shifted right by this much


def sketch_loss(w: np.ndarray, shift: float = 0.0) -> np.ndarray:
    """f(w) = 1 - sum of depth * exp(-(w - shift - centre)^2 / (2 width^2)): a flat and a sharp
    minimum of equal depth; `shift` moves the whole curve (the test loss of Keskar's Fig. 1)."""
    w = np.asarray(w, dtype=float) - shift
    wells = sum(d * np.exp(-((w - c) ** 2) / (2 * s**2)) for c, d, s in (FLAT_WELL, SHARP_WELL))
    return 1.0 - wells


def well_curvature(well: tuple[float, float, float]) -> float:
    """Second derivative at the bottom of one isolated well: depth / width^2."""
    _, depth, width = well
    return depth / width**2
