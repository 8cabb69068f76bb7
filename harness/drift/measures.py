"""How far one map moved, re-exported: it lives in :mod:`harness.compare.change` (pure NumPy/SciPy)."""

from ..compare.change import MapChange, map_change, mask_iou, spearman

__all__ = ["MapChange", "map_change", "mask_iou", "spearman"]
