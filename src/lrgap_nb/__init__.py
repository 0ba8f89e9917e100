"""lrgap_nb: the thin package behind the lrgap book."""

__version__ = "0.1.0"
