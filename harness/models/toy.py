"""Tiny registered models for the harness's own unit tests.

``toy_resnet``/``toy_vit``/``toy_efficientnet`` are timm's ``test_*``
architectures at 64 px with 10 classes: random weights, a few hundred
thousand parameters, milliseconds per pass.  ``toy_linear`` is a
hand-weighted linear classifier whose attributions can be written down on
paper (Integrated Gradients equals ``(x - x0) * w`` exactly).
"""

from __future__ import annotations

import torch
from torch import nn

from .config import INCEPTION_MEAN, INCEPTION_STD, ModelCfg
from .registry import add_model

TOY_SIZE = 64
TOY_CLASSES = 10


class LinearToy(nn.Module):
    """``logits[k] = sum(w[k] * x) + b[k]`` with deterministic hand-set weights.

    Class ``k`` weighs pixels by a smooth spatial pattern so that different
    targets give different, predictable attributions.
    """

    def __init__(self, num_classes: int = TOY_CLASSES, size: int = TOY_SIZE) -> None:
        super().__init__()
        ys, xs = torch.meshgrid(torch.linspace(-1, 1, size), torch.linspace(-1, 1, size), indexing="ij")
        w = torch.stack(
            [
                torch.stack([torch.cos((k + 1) * xs + c) * torch.sin((k + 2) * ys) for c in range(3)])
                for k in range(num_classes)
            ]
        ) / (size * size)
        self.weight = nn.Parameter(w)  # [K, 3, H, W]
        self.bias = nn.Parameter(torch.linspace(-0.5, 0.5, num_classes))
        self.features = nn.Identity()  # a named layer so layer-based explainers can hook it

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)
        return torch.einsum("bchw,kchw->bk", x, self.weight) + self.bias


def _toy(name: str, arch: str, family: str, layers: tuple[str, str, str, str], **kw) -> ModelCfg:
    return ModelCfg(
        name=name,
        arch=arch,
        family=family,
        source="toy",
        input_size=TOY_SIZE,
        mean=INCEPTION_MEAN,
        std=INCEPTION_STD,
        crop_pct=1.0,
        target_layers=layers,
        num_classes=TOY_CLASSES,
        label_space="toy",
        **kw,
    )


TOY_MODELS = (
    _toy(
        "toy_resnet",
        "test_resnet",
        "cnn",
        ("layer1", "layer2", "layer3", "layer4"),
        create_kwargs=(("num_classes", TOY_CLASSES),),
        traits=("gap_linear_head", "timm_resnet_blocks"),
    ),
    _toy(
        "toy_efficientnet",
        "test_efficientnet",
        "cnn",
        ("blocks.1", "blocks.2", "blocks.3", "bn2"),
        create_kwargs=(("num_classes", TOY_CLASSES),),
        traits=("gap_linear_head",),
    ),
    _toy(
        "toy_vit",
        "test_vit",
        "transformer",
        ("blocks.1.norm1", "blocks.2.norm1", "blocks.3.norm1", "blocks.5.norm1"),
        layout="tokens",
        num_prefix_tokens=1,
        patch_size=16,
        grid_size=(4, 4),
        strides=(16,) * 4,
        create_kwargs=(("num_classes", TOY_CLASSES), ("img_size", TOY_SIZE)),
    ),
    _toy(
        "toy_linear",
        "harness.linear_toy",
        "cnn",
        ("features",) * 4,
        strides=(1,) * 4,
    ),
)

TOY_BUILDERS = {"harness.linear_toy": LinearToy}

for _cfg in TOY_MODELS:
    add_model(_cfg)
