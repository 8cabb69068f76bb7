"""The noise floor, re-exported: it lives in :mod:`harness.checks.noise` so the regression baselines record it too."""

from ..checks.noise import (
    CLASSES,
    FACTOR,
    FLOAT_FLOOR,
    IOU_CAP,
    NOISE_KIND,
    NOISE_VERSION,
    NoiseFloor,
    Tolerance,
    classify,
    default_tolerance,
    measure_floor,
    read_floors,
    stored_floor,
    write_floors,
)

__all__ = [
    "CLASSES",
    "FACTOR",
    "FLOAT_FLOOR",
    "IOU_CAP",
    "NOISE_KIND",
    "NOISE_VERSION",
    "NoiseFloor",
    "Tolerance",
    "classify",
    "default_tolerance",
    "measure_floor",
    "read_floors",
    "stored_floor",
    "write_floors",
]
