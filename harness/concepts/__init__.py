"""Concept labels of units: CLIP-Dissect (soft-WPMI) and Network Dissection on the ``shapes`` probe set.

``activations`` runs one pass per model; ``dissect`` holds the two methods;
``similarity`` the pluggable image x concept matrix P (``annotations`` or
``clip``); ``study`` scores the labels against the probe's ground truth.
"""

from .activations import LAYERS, LOGITS, Activations, activation_pass
from .dissect import Labels, clip_dissect, dissection_iou, network_dissection, soft_wpmi
from .study import CHANCE, METHODS, Dissection, dissect, summarise, tune

__all__ = [
    "CHANCE",
    "LAYERS",
    "LOGITS",
    "METHODS",
    "Activations",
    "Dissection",
    "Labels",
    "activation_pass",
    "clip_dissect",
    "dissect",
    "dissection_iou",
    "network_dissection",
    "soft_wpmi",
    "summarise",
    "tune",
]
