"""Wired oracle models: hand-set weights whose right attribution is known by construction.

Four small models, built in code (no training, no file), registered with
``source="oracle"`` so the generic suites leave them to ``suites/test_oracle.py``.
Every input is ``[B, 3, 32, 32]`` with mean 0 and std 1, so the ``black``
baseline is the zero input.  Each module carries its ground truth as buffers:

* ``oracle_region`` ``[H, W]``: 1 on the pixels the target logit reads, 0 elsewhere;
* ``oracle_weight`` ``[3, H, W]`` (linear oracles): ``logit_0 = sum(oracle_weight * x) + const``.

The models:

``oracle_linear``
    A CNN: a 1x1 convolution (channel weights ``CHANNEL_WEIGHTS``) gated by a
    fixed spatial weight map that is zero outside ``LINEAR_REGION``, average
    pooling and a linear head ``(+s, -s)``.  Class 0's logit is a known linear
    function of the region's pixels, so IG with the black baseline, Input x
    Gradient, saliency, occlusion and KernelSHAP have closed forms.
``oracle_relu``
    A bias-free ReLU CNN (two 3x3 convolutions, average pooling, a bias-free
    linear head) with seeded random weights: positively homogeneous of
    degree 1, so its gradient is constant along the ray ``a * x`` (``a > 0``)
    and IG with the zero baseline equals Input x Gradient exactly (Hesse et
    al., NeurIPS 2021).
``oracle_vit``
    A timm ``VisionTransformer`` (one block, one head, 8 px patches on a 4x4
    grid, LayerNorms replaced by identities, MLP zeroed) whose class-token
    query and patch keys read fixed positional indicator dimensions: the
    class token attends to ``VIT_PATCHES`` only (weight ``1 / |S|`` each, the
    rest ``< 1e-20``), independently of the input.  The value carries each
    patch's mean pixel, so class 0's logit is ``mean_{j in S}(1 + mean pixel
    of patch j)``: linear in the pixels of those patches.
``oracle_cancel``
    Two regions that cancel: ``logit_0 = ReLU(s_A - s_B)`` with ``s_R`` the
    mean pixel of region ``R`` and ``logit_1 = -1``.  On :func:`cancel_input`
    (``s_A = 0.5 < s_B = 1.0``) the ReLU is flat on the whole segment from the
    black baseline to the input, so every gradient is exactly zero (saliency,
    Input x Gradient, IG, SmoothGrad, Grad-CAM all return zero maps) and
    removing one window of either region leaves the logit at 0 (occlusion
    returns zeros too).  Yet the model uses both regions: removing B lifts the
    logit to 0.5.  The Shapley values of the two regions are ``+0.25`` (A) and
    ``-0.25`` (B).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from .config import ModelCfg
from .registry import add_model

ORACLE_SIZE = 32
ORACLE_CLASSES = 2
ORACLE_MEAN = (0.0, 0.0, 0.0)
ORACLE_STD = (1.0, 1.0, 1.0)
CHANNEL_WEIGHTS = (0.5, 1.0, 0.25)
LINEAR_SCALE = 4.0  # head weight s: logit_0 = s * mean over the image of the gated map
LINEAR_REGION = (slice(8, 16), slice(16, 28))  # rows, cols: aligned to the 4-px occlusion windows
CANCEL_A = (slice(4, 12), slice(4, 12))
CANCEL_B = (slice(20, 28), slice(20, 28))
VIT_PATCH = 8
VIT_PATCHES = (1, 6, 9)  # token indices on the 4x4 grid (row-major): the class token attends to these
VIT_SHARPNESS = 120.0  # class-token attention logit on the wired patches (0 elsewhere)
RELU_WIDTH = 8


def region_mask(*regions: tuple[slice, slice], size: int = ORACLE_SIZE) -> torch.Tensor:
    """``[size, size]`` float mask, 1 on the union of ``regions``."""
    m = torch.zeros(size, size)
    for rows, cols in regions:
        m[rows, cols] = 1.0
    return m


def patch_mask(patches: tuple[int, ...], *, patch: int = VIT_PATCH, size: int = ORACLE_SIZE) -> torch.Tensor:
    """``[size, size]`` mask of the given patch-grid tokens (row-major indices)."""
    side = size // patch
    return region_mask(
        *[
            (slice(p // side * patch, (p // side + 1) * patch), slice(p % side * patch, (p % side + 1) * patch))
            for p in patches
        ],
        size=size,
    )


class SpatialGate(nn.Module):
    """Multiplies ``[B, C, H, W]`` by a fixed ``[C, H, W]`` map (a named layer for CAM-style explainers)."""

    gate: torch.Tensor

    def __init__(self, gate: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("gate", gate)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gate


class LinearRegionOracle(nn.Module):
    """``logit_0 = s * mean_hw(gate * conv1x1(x))``, ``logit_1 = -logit_0``; zero outside the region."""

    def __init__(self, size: int = ORACLE_SIZE) -> None:
        super().__init__()
        region = region_mask(LINEAR_REGION, size=size)
        ys, xs = torch.meshgrid(torch.linspace(0, 1, size), torch.linspace(0, 1, size), indexing="ij")
        spatial = region * (1.0 + 0.5 * torch.sin(6.0 * xs) * torch.cos(4.0 * ys))  # in [0.5, 1.5] on the region
        conv = nn.Conv2d(3, 1, 1, bias=False)
        with torch.no_grad():
            conv.weight.copy_(torch.tensor(CHANNEL_WEIGHTS).view(1, 3, 1, 1))
        self.features = nn.Sequential(conv, SpatialGate(spatial[None]))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Linear(1, ORACLE_CLASSES)
        with torch.no_grad():
            self.head.weight.copy_(torch.tensor([[LINEAR_SCALE], [-LINEAR_SCALE]]))
            self.head.bias.zero_()
        self.register_buffer("oracle_region", region)
        weight = torch.tensor(CHANNEL_WEIGHTS).view(3, 1, 1) * spatial * LINEAR_SCALE / (size * size)
        self.register_buffer("oracle_weight", weight)

    def get_classifier(self) -> nn.Module:
        """The linear head on the average-pooled last target layer (what ``cam`` reads)."""
        return self.head

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.pool(self.features(x)).flatten(1))


class BiasFreeReLUOracle(nn.Module):
    """Conv3x3 -> ReLU -> Conv3x3 -> ReLU -> average pool -> linear, all bias-free, weights from ``seed``."""

    def __init__(self, seed: int = 0, width: int = RELU_WIDTH) -> None:
        super().__init__()
        gen = torch.Generator().manual_seed(seed)
        c1 = nn.Conv2d(3, width, 3, padding=1, bias=False)
        c2 = nn.Conv2d(width, width, 3, padding=1, bias=False)
        head = nn.Linear(width, ORACLE_CLASSES, bias=False)
        with torch.no_grad():
            for layer in (c1, c2, head):
                fan_in = layer.weight[0].numel()
                layer.weight.copy_(torch.randn(layer.weight.shape, generator=gen) * (2.0 / fan_in) ** 0.5)
        self.features = nn.Sequential(c1, nn.ReLU(), c2, nn.ReLU())
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = head
        self.register_buffer("oracle_region", torch.ones(ORACLE_SIZE, ORACLE_SIZE))  # every pixel may matter

    def get_classifier(self) -> nn.Module:
        """The linear head on the average-pooled last target layer (what ``cam`` reads)."""
        return self.head

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.pool(self.features(x)).flatten(1))


class CancellingOracle(nn.Module):
    """``logit_0 = ReLU(s_A - s_B)``, ``logit_1 = -1``; ``s_R`` the mean pixel (over channels) of region R."""

    def __init__(self, size: int = ORACLE_SIZE) -> None:
        super().__init__()
        a, b = region_mask(CANCEL_A, size=size), region_mask(CANCEL_B, size=size)
        conv = nn.Conv2d(3, 2, 1, bias=False)
        with torch.no_grad():
            conv.weight.fill_(1.0 / 3.0)
        gate = torch.stack([a / a.sum(), b / b.sum()]) * size * size  # the average pool then gives s_A, s_B
        self.features = nn.Sequential(conv, SpatialGate(gate))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.register_buffer("oracle_region", a + b)
        self.register_buffer("oracle_region_a", a)
        self.register_buffer("oracle_region_b", b)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = self.pool(self.features(x)).flatten(1)  # [B, 2] = (s_A, s_B)
        logit0 = torch.relu(s[:, :1] - s[:, 1:])
        return torch.cat([logit0, torch.full_like(logit0, -1.0)], dim=1)


def build_vit_oracle(patches: tuple[int, ...] = VIT_PATCHES, size: int = ORACLE_SIZE) -> nn.Module:
    """A timm ``VisionTransformer`` whose class token attends to ``patches`` only (see the module docstring).

    Embedding dimensions: 0 = class-token indicator, 1 = wired-patch indicator (positional),
    2 = mean pixel of the patch (content), 3 = the attention output the head reads.
    """
    from timm.models.vision_transformer import VisionTransformer  # lazy: timm takes ~3 s to import

    dim = 4
    if not patches or max(patches) >= (size // VIT_PATCH) ** 2:
        raise ValueError(f"oracle_vit: patches {patches} outside the {size // VIT_PATCH}x{size // VIT_PATCH} grid")
    vit: Any = VisionTransformer(
        img_size=size,
        patch_size=VIT_PATCH,
        embed_dim=dim,
        depth=1,
        num_heads=1,
        mlp_ratio=1.0,
        num_classes=ORACLE_CLASSES,
        class_token=True,
        global_pool="token",
    )
    block: Any = vit.blocks[0]
    block.norm1, block.norm2, vit.norm = nn.Identity(), nn.Identity(), nn.Identity()
    with torch.no_grad():
        for p in vit.parameters():
            p.zero_()
        vit.patch_embed.proj.weight[2].fill_(1.0 / (3 * VIT_PATCH * VIT_PATCH))  # content: mean pixel
        vit.cls_token[0, 0, 0] = 1.0
        for j in patches:
            vit.pos_embed[0, 1 + j, 1] = 1.0
        qkv = block.attn.qkv
        qkv.weight[0, 0] = VIT_SHARPNESS / block.attn.scale  # q_0 = sharpness * [is class token]
        qkv.weight[dim + 0, 1] = 1.0  # k_0 = [is a wired patch]
        qkv.weight[2 * dim + 2, 2] = 1.0  # v_2 = mean pixel + 1
        qkv.bias[2 * dim + 2] = 1.0
        block.attn.proj.weight[3, 2] = 1.0  # out_3 = attention-weighted (1 + mean pixel)
        vit.head.weight[0, 3], vit.head.weight[1, 3] = 1.0, -1.0
    weight = patch_mask(patches, size=size) / (len(patches) * 3 * VIT_PATCH * VIT_PATCH)
    vit.register_buffer("oracle_region", patch_mask(patches, size=size))
    vit.register_buffer("oracle_weight", weight.expand(3, size, size).clone())
    vit.register_buffer("oracle_patches", torch.tensor(patches))
    return vit


def blocky_input(seed: int = 0, size: int = ORACLE_SIZE, block: int = 4) -> torch.Tensor:
    """``[1, 3, size, size]`` in 0..1: uniform random colours on ``block``-px squares.

    Every region above is aligned to 4 px, so SLIC superpixels (KernelSHAP, LIME) follow the
    colour edges and need not straddle a region's border."""
    coarse = torch.rand(1, 3, size // block, size // block, generator=torch.Generator().manual_seed(seed))
    return coarse.repeat_interleave(block, dim=2).repeat_interleave(block, dim=3)


def cancel_input(seed: int = 0, size: int = ORACLE_SIZE) -> torch.Tensor:
    """:func:`blocky_input` with region A at 0.5 and region B at 1.0 (so ``s_A = 0.5 < s_B = 1``)."""
    x = blocky_input(seed, size)
    x[..., CANCEL_A[0], CANCEL_A[1]] = 0.5
    x[..., CANCEL_B[0], CANCEL_B[1]] = 1.0
    return x


def _oracle(name: str, arch: str, family: str, layers: tuple[str, ...], **kw) -> ModelCfg:
    return ModelCfg(
        name=name,
        arch=arch,
        family=family,
        source="oracle",
        input_size=ORACLE_SIZE,
        mean=ORACLE_MEAN,
        std=ORACLE_STD,
        crop_pct=1.0,
        target_layers=layers,
        num_classes=ORACLE_CLASSES,
        label_space="oracle",
        **kw,
    )


ORACLE_MODELS = (
    _oracle(
        "oracle_linear",
        "harness.oracle_linear",
        "cnn",
        ("features",) * 4,
        strides=(1,) * 4,
        traits=("gap_linear_head",),
    ),
    _oracle(
        "oracle_relu",
        "harness.oracle_relu",
        "cnn",
        ("features.1", "features.1", "features.3", "features.3"),
        strides=(1,) * 4,
        traits=("gap_linear_head",),
    ),
    _oracle("oracle_cancel", "harness.oracle_cancel", "cnn", ("features",) * 4, strides=(1,) * 4),
    _oracle(
        "oracle_vit",
        "harness.oracle_vit",
        "transformer",
        ("blocks.0.norm1",) * 4,
        layout="tokens",
        num_prefix_tokens=1,
        patch_size=VIT_PATCH,
        grid_size=(ORACLE_SIZE // VIT_PATCH,) * 2,
        strides=(VIT_PATCH,) * 4,
    ),
)

ORACLE_BUILDERS: dict[str, Callable[..., nn.Module]] = {
    "harness.oracle_linear": LinearRegionOracle,
    "harness.oracle_relu": BiasFreeReLUOracle,
    "harness.oracle_cancel": CancellingOracle,
    "harness.oracle_vit": build_vit_oracle,
}

for _cfg in ORACLE_MODELS:
    add_model(_cfg)


@dataclass(frozen=True)
class OracleTruth:
    """What is known about one oracle: which oracle checks apply, and the inputs they run on."""

    checks: tuple[str, ...]
    inputs: Callable[[], torch.Tensor]
    target: int = 0


def _pair(make: Callable[[int], torch.Tensor]) -> Callable[[], torch.Tensor]:
    return lambda: torch.cat([make(0), make(1)])


# check names: exact (closed-form map), region (mass on the used pixels), patches (wired tokens),
# ig_equals_ixg (bias-free ReLU), cancelling (Shapley signs on two cancelling regions)
ORACLE_TRUTHS: dict[str, OracleTruth] = {
    "oracle_linear": OracleTruth(("exact", "region"), _pair(blocky_input)),
    "oracle_relu": OracleTruth(("ig_equals_ixg",), _pair(blocky_input)),
    "oracle_cancel": OracleTruth(("cancelling",), _pair(cancel_input)),
    "oracle_vit": OracleTruth(("exact", "region", "patches"), _pair(blocky_input)),
}
