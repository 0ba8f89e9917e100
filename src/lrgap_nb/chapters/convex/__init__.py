"""Large learning rates in a convex problem: the survey report's 2-D linear regression (section 4)."""

from lrgap_nb.chapters import Chapter, submodules

CHAPTER = Chapter("convex", "01_convex", "Large LR in a convex problem", "ConvexParams")
__getattr__ = submodules(__name__)
