"""Learning order on Li, Wei & Ma's (2019) two-pattern distribution: L-S, S and S + noise."""

from lrgap_nb.chapters import Chapter, submodules

CHAPTER = Chapter(
    "learning_order",
    "02_learning_order",
    "Learning order on Li, Wei & Ma's distribution",
    "LearningOrderParams",
)
__getattr__ = submodules(__name__)
