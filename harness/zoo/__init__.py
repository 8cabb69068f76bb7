"""The ground-truth zoo: the procedural ``shapes`` dataset and small trained models.

* :mod:`harness.zoo.shapes` generates 224x224 images with exact object masks
  (and a spurious-cue variant for bias probes);
* :mod:`harness.zoo.train` trains the zoo models registered in
  :mod:`harness.models.zoo` and writes ``fixtures/zoo``;
* :mod:`harness.zoo.evaluate` reports top-1, macro ROC-AUC, per-class
  accuracy and confusion matrices, with random-weight controls.
"""

from .shapes import CLASS_NAMES, CLASSES, LABEL_SPACE, NUM_CLASSES, make_sample, make_split, shapes_images

__all__ = ["CLASSES", "CLASS_NAMES", "LABEL_SPACE", "NUM_CLASSES", "make_sample", "make_split", "shapes_images"]
