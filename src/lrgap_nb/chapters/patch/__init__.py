"""Li, Wei & Ma's patch-augmented CIFAR-10 (2019, section 6): the learning-order experiment."""

from lrgap_nb.chapters import Chapter, submodules

CHAPTER = Chapter("patch", "04_patch", "The patch-augmented CIFAR-10 experiment", "PatchParams")
__getattr__ = submodules(__name__)
