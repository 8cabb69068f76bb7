"""The image x concept matrix P that CLIP-Dissect needs, from a pluggable source.

* ``annotations``: exact concept presence from the probe set (1 where the
  concept is in the image, else 0); no CLIP needed.
* ``clip``: an ``open_clip_torch`` model's cosine similarity between each
  image and each concept word, as CLIP-Dissect computes it (unit-normed
  image and text features, ``image @ text.T``).  ViT-B/16 by default, as in
  the paper, with weights the user supplies (``pretrained=`` a local file
  or an open_clip tag already in its cache; nothing is downloaded here),
  and a concept word list the user may replace (:data:`DEFAULT_WORDS`).

A randomly initialised open_clip model runs the ``clip`` path offline for
plumbing only; :class:`ConceptSimilarity` carries ``random_weights`` and its
``label`` says so.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..zoo.probe import CONCEPTS

SOURCES = ("annotations", "clip")
DEFAULT_CLIP = "ViT-B-16"
# One word (or short phrase) per probe concept, in CONCEPTS order; replaceable.
DEFAULT_WORDS: tuple[str, ...] = tuple(
    {
        "stripes": "striped",
        "checker": "checkered",
        "photo": "photograph",
        "texture": "texture",
        "distractor": "blob",
    }.get(c.split(":")[-1], c.split(":")[-1])
    for c in CONCEPTS
)
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)  # open_clip's OPENAI_DATASET_MEAN / STD
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


@dataclass(frozen=True)
class ConceptSimilarity:
    """P ``[N, C]`` with the concept names of its columns and where it came from."""

    values: np.ndarray
    concepts: tuple[str, ...]
    source: str
    random_weights: bool = False

    @property
    def label(self) -> str:
        return f"{self.source}_random (plumbing only: random-weight CLIP)" if self.random_weights else self.source


def load_clip(model_name: str = DEFAULT_CLIP, pretrained: str | None = None, device: str = "cpu"):
    """An open_clip model and its tokenizer; ``pretrained`` a local weights file or a cached tag."""
    try:
        import open_clip  # lazy: optional extra [clip]
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("the `clip` source needs open_clip_torch: pip install open_clip_torch") from exc
    if pretrained is None:
        raise ValueError(
            f"clip source: no weights for {model_name}; pass pretrained=<file or open_clip tag> "
            "(the harness never downloads CLIP), or use source='annotations'"
        )
    model = open_clip.create_model(model_name, pretrained=pretrained, device=device)
    return model.eval(), open_clip.get_tokenizer(model_name)


@torch.no_grad()
def clip_similarity(
    images: np.ndarray,
    *,
    model,
    tokenizer,
    words: tuple[str, ...] = DEFAULT_WORDS,
    concepts: tuple[str, ...] | None = None,
    random_weights: bool = False,
    batch: int = 32,
) -> ConceptSimilarity:
    """Cosine similarity of ``[N, 224, 224, 3]`` uint8 images with each word (CLIP-Dissect's P)."""
    if concepts is not None and len(concepts) != len(words):
        raise ValueError(f"clip source: {len(words)} words for {len(concepts)} concepts")
    device = next(model.parameters()).device
    text = model.encode_text(tokenizer(list(words)).to(device)).float()
    text = text / text.norm(dim=-1, keepdim=True)
    size = getattr(getattr(model, "visual", None), "image_size", 224)
    size = size[0] if isinstance(size, tuple | list) else int(size)
    mean = torch.tensor(CLIP_MEAN, device=device).view(1, 3, 1, 1)
    std = torch.tensor(CLIP_STD, device=device).view(1, 3, 1, 1)
    out = []
    for s in range(0, len(images), batch):
        x = torch.from_numpy(images[s : s + batch]).to(device).permute(0, 3, 1, 2).float() / 255
        if x.shape[-1] != size:
            x = torch.nn.functional.interpolate(x, size=(size, size), mode="bicubic", align_corners=False)
        feats = model.encode_image((x - mean) / std).float()
        out.append((feats / feats.norm(dim=-1, keepdim=True)) @ text.T)
    values = torch.cat(out).cpu().numpy()
    return ConceptSimilarity(values, tuple(concepts or words), "clip", random_weights)


def tiny_random_clip(seed: int = 0):
    """A tiny randomly initialised open_clip CLIP and the default tokenizer: for plumbing tests only."""
    import open_clip  # lazy: optional extra [clip]
    from open_clip.model import CLIPTextCfg, CLIPVisionCfg  # lazy: optional extra [clip]

    torch.manual_seed(seed)
    model = open_clip.CLIP(
        embed_dim=32,
        vision_cfg=CLIPVisionCfg(layers=1, width=32, head_width=16, patch_size=32, image_size=224),
        text_cfg=CLIPTextCfg(context_length=77, vocab_size=49408, width=32, heads=2, layers=1),
    )
    return model.eval(), open_clip.get_tokenizer("ViT-B-16")
