"""Small versus large batch: the generalisation gap and sharp minima (Keskar et al. 2017)."""

from lrgap_nb.chapters import Chapter, submodules

CHAPTER = Chapter("large_batch", "05_large_batch", "Small versus large batch", "LargeBatchParams")
__getattr__ = submodules(__name__)
