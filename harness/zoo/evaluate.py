"""Evaluate the zoo on its test split: top-1, macro ROC-AUC, per-class accuracy, confusion.

``python -m harness zoo evaluate [--json] [--plots DIR]`` loads every zoo
model from ``fixtures/zoo`` (safetensors only), regenerates the test split
named in the manifest (same data seed and size) and reports, next to each
trained model, a **random-weight control**: the same architecture with
seeded random weights, which should sit near chance (1/8).
"""

from __future__ import annotations

import functools
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.metrics import confusion_matrix, roc_auc_score
from torch import nn

from ..core.atomic import write_atomic
from ..models import WeightsUnavailable, get_model_cfg, list_models, load_model
from ..models.config import ModelCfg
from ..models.weights import ZOO_DIR
from ..models.zoo import trained_on
from .manifest import read_manifest
from .shapes import CLASS_NAMES, NUM_CLASSES, make_split


@torch.no_grad()
def logits_of(module: nn.Module, cfg: ModelCfg, images: torch.Tensor, batch: int = 100) -> np.ndarray:
    """Logits for uint8 ``[N, 3, H, W]`` images, normalised for ``cfg``."""
    dev = next(module.parameters()).device
    mean = torch.tensor(cfg.mean, device=dev).view(1, 3, 1, 1) * 255
    std = torch.tensor(cfg.std, device=dev).view(1, 3, 1, 1) * 255
    out = [
        module((images[i : i + batch].to(dev).float() - mean) / std).float().cpu() for i in range(0, len(images), batch)
    ]
    return torch.cat(out).numpy()


def metrics_from_logits(logits: np.ndarray, labels: np.ndarray) -> dict:
    labels = np.asarray(labels)
    pred = logits.argmax(1)
    z = logits - logits.max(1, keepdims=True)
    prob = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    cm = confusion_matrix(labels, pred, labels=list(range(NUM_CLASSES)))
    per_class = {CLASS_NAMES[k]: round(float(cm[k, k] / max(1, cm[k].sum())), 4) for k in range(NUM_CLASSES)}
    try:
        auc = float(roc_auc_score(labels, prob, multi_class="ovr", average="macro", labels=list(range(NUM_CLASSES))))
    except ValueError:  # a class missing from a tiny test set
        auc = float("nan")
    return dict(
        top1=round(float((pred == labels).mean()), 4),
        macro_auc=round(auc, 4),
        per_class=per_class,
        confusion=cm.tolist(),
        n=int(len(labels)),
    )


def evaluate_module(module: nn.Module, cfg: ModelCfg, images: torch.Tensor, labels: torch.Tensor) -> dict:
    return metrics_from_logits(logits_of(module, cfg, images), labels.numpy())


def load_test_split(
    manifest: dict, n: int | None = None, *, spurious: bool = False
) -> tuple[torch.Tensor, torch.Tensor, int]:
    """The test split recorded in the manifest (or its first ``n`` images); ``spurious``: of ``shapes-spurious``."""
    seeds = {m["data"]["seed"] for m in manifest.get("models", {}).values()} or {0}
    sizes = {m["data"]["n_test"] for m in manifest.get("models", {}).values()} or {1000}
    if len(seeds) > 1:
        raise ValueError(f"zoo manifest mixes data seeds {sorted(seeds)}; retrain so they agree")
    seed, size = seeds.pop(), min(sizes)
    images, _, labels = make_split(seed, "test", n or size, spurious=spurious)
    return torch.from_numpy(images).permute(0, 3, 1, 2).contiguous(), torch.from_numpy(labels), seed


def _model_row(loaded, cfg, entry: dict, dataset: str, images, labels) -> dict:
    """One trained model's metrics on its test split, beside what its manifest entry recorded."""
    return dict(
        family=cfg.family,
        arch=cfg.arch,
        dataset=dataset,
        weights=str(loaded.weights.path),
        **evaluate_module(loaded.module, cfg, images, labels),
        recorded_top1=entry.get("test", {}).get("top1"),
        init=entry.get("training", {}).get("init", ""),
        params=entry.get("params"),
    )


def _random_control(name: str, cfg, images, labels, control_n: int | None, device: str) -> dict:
    """The same architecture with random weights on the first ``control_n`` images (all by default)."""
    rnd = load_model(name, pretrained=False, device=device)
    k = len(labels) if control_n is None else min(control_n, len(labels))
    return {
        key: v
        for key, v in evaluate_module(rnd.module, cfg, images[:k], labels[:k]).items()
        if key in ("top1", "macro_auc", "n")
    }


def evaluate_zoo(
    models: list[str] | None = None,
    *,
    n: int | None = None,
    controls: bool = True,
    control_n: int | None = None,
    device: str = "auto",
    log=None,
) -> dict:
    """Metrics for each zoo model with weights, plus its random-weight control.

    ``control_n`` evaluates the random-weight controls on only the first
    ``control_n`` test images (chance is chance on 200 images as on 1000).
    ``log`` (e.g. ``print`` to stderr) receives one progress line per model.
    """

    manifest = read_manifest(ZOO_DIR)
    images, labels, seed = load_test_split(manifest, n)
    splits = {"shapes": (images, labels)}  # each model is tested on the test split of the data it learnt
    rows = {}
    names = models or list_models(source="zoo")
    for i, name in enumerate(names, 1):
        start = time.perf_counter()
        cfg = get_model_cfg(name)
        entry = manifest["models"].get(name, {})
        dataset = trained_on(cfg)
        if dataset not in splits:
            splits[dataset] = load_test_split(manifest, n, spurious=dataset == "shapes-spurious")[:2]
        images, labels = splits[dataset]
        try:
            loaded = load_model(name, device=device)
        except WeightsUnavailable as exc:
            rows[name] = dict(family=cfg.family, error=str(exc))
            continue
        row = _model_row(loaded, cfg, entry, dataset, images, labels)
        if controls:
            row["random_control"] = _random_control(name, cfg, images, labels, control_n, device)
        rows[name] = row
        if log is not None:
            ctrl = row.get("random_control", {}).get("top1")
            log(
                f"[zoo evaluate {i}/{len(names)}] {name}: top-1 {row['top1']:.3f} on {len(labels)} images"
                + (f", random-weight control {ctrl:.3f}" if ctrl is not None else "")
                + f" ({time.perf_counter() - start:.1f} s)"
            )
    return dict(
        dataset="shapes",
        split="test",
        data_seed=seed,
        n=int(len(labels)),
        chance=1 / NUM_CLASSES,
        classes=list(CLASS_NAMES),
        models=rows,
    )


def plot_confusions(result: dict, folder: str | Path) -> list[Path]:
    import matplotlib  # lazy: matplotlib takes ~0.2-0.8 s to import

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # lazy: matplotlib takes ~0.2-0.8 s to import

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for name, row in result["models"].items():
        if "confusion" not in row:
            continue
        cm = np.asarray(row["confusion"])
        fig, ax = plt.subplots(figsize=(6, 5))
        ax.imshow(cm, cmap="Blues")
        ax.set_xticks(range(NUM_CLASSES), CLASS_NAMES, rotation=60, ha="right", fontsize=7)
        ax.set_yticks(range(NUM_CLASSES), CLASS_NAMES, fontsize=7)
        for i in range(NUM_CLASSES):
            for j in range(NUM_CLASSES):
                ax.text(
                    j,
                    i,
                    str(int(cm[i, j])),
                    ha="center",
                    va="center",
                    fontsize=6,
                    color="white" if cm[i, j] > cm.max() / 2 else "black",
                )
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        ax.set_title(f"{name}: top-1 {row['top1']:.3f}")
        fig.tight_layout()
        path = folder / f"confusion-{name}.png"
        write_atomic(path, functools.partial(fig.savefig, format="png", dpi=100))
        plt.close(fig)
        out.append(path)
    return out


def confusion_table(row: dict) -> str:
    short = [c.split("_")[-1][:7] for c in CLASS_NAMES]
    lines = ["true \\ pred | " + " | ".join(short), "---|" + "---|" * NUM_CLASSES]
    for k, counts in enumerate(row["confusion"]):
        lines.append(f"{short[k]} | " + " | ".join(str(c) for c in counts))
    return "\n".join(lines)
