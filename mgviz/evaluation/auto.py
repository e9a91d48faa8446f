"""``--weights auto``: fusion weights tuned on a validation split of the given log."""

from mgviz.evaluation.report import auto_weights

__all__ = ["auto_weights"]
