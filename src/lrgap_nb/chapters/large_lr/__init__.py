"""Large LR + anneal versus small LR on WRN-16 (Li, Wei & Ma 2019, Figure 1 and section 6)."""

from lrgap_nb.chapters import Chapter, submodules

CHAPTER = Chapter("large_lr", "03_large_lr", "Large LR + anneal versus small LR", "LargeLRParams")
__getattr__ = submodules(__name__)
