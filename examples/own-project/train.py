"""Fine-tune a small timm model on an ImageFolder export of the harness's ``shapes`` images.

    python train.py                 # data/train, data/val, checkpoints/shapes_resnet.safetensors

1. Exports three classes of the harness's generated ``shapes`` world as
   class-name folders (torchvision's ``ImageFolder`` layout), 64 px:
   ``data/train/<class>/*.png`` and ``data/val/<class>/*.png``.
2. Builds ``test_resnet`` with a new 3-class head.  With ``--pretrained`` it
   starts from timm's ImageNet weights (found in the Hugging Face cache, or
   downloaded); without them it trains from a seeded random initialisation,
   and says so.
3. Trains with AdamW, reports validation accuracy and saves the state dict
   (float16) as ``checkpoints/shapes_resnet.safetensors``, the checkpoint
   ``pyproject.toml`` declares under ``[tool.xai-harness.models.shapes_resnet]``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import timm
import torch
from PIL import Image
from safetensors.torch import save_file
from torchvision import datasets, transforms

from harness.zoo.shapes import CLASS_NAMES, make_sample, sample_label

CLASSES = ("red_disk", "green_square", "blue_triangle")
SIZE = 64
HERE = Path(__file__).resolve().parent


def export(root: Path, split: str, per_class: int, *, seed: int = 0) -> Path:
    """``per_class`` images of each of :data:`CLASSES` from ``split``, in class-name folders."""
    want = {CLASS_NAMES.index(c): c for c in CLASSES}
    count = dict.fromkeys(CLASSES, 0)
    i = 0
    while min(count.values()) < per_class:
        label = sample_label(seed, split, i)
        name = want.get(label)
        if name is not None and count[name] < per_class:
            path = root / split / name / f"{split}_{i:05d}.png"
            if not path.is_file():
                path.parent.mkdir(parents=True, exist_ok=True)
                img = Image.fromarray(make_sample(seed, split, i).image).resize((SIZE, SIZE), Image.BICUBIC)
                img.save(path)
            count[name] += 1
        i += 1
    return root / split


def build(arch: str, pretrained: bool, n: int) -> torch.nn.Module:
    if pretrained:
        try:
            return timm.create_model(arch, pretrained=True, num_classes=n)
        except Exception as exc:  # offline without a cached copy
            print(f"no pretrained weights for {arch} ({type(exc).__name__}); training from a random init")
    else:
        print(f"training {arch} from a seeded random initialisation (pass --pretrained to fine-tune)")
    return timm.create_model(arch, pretrained=False, num_classes=n)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arch", default="test_resnet")
    ap.add_argument("--pretrained", action="store_true")
    ap.add_argument("--train-per-class", type=int, default=60)
    ap.add_argument("--val-per-class", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--data", type=Path, default=HERE / "data")
    ap.add_argument("--out", type=Path, default=HERE / "checkpoints" / "shapes_resnet.safetensors")
    args = ap.parse_args(argv)

    torch.manual_seed(0)
    train_dir = export(args.data, "train", args.train_per_class)
    val_dir = export(args.data, "val", args.val_per_class)
    model = build(args.arch, args.pretrained, len(CLASSES))
    cfg = timm.data.resolve_data_config(model=model)
    tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize(cfg["mean"], cfg["std"])])
    aug = transforms.Compose([transforms.RandomHorizontalFlip(), tf])
    train = datasets.ImageFolder(str(train_dir), transform=aug)
    val = datasets.ImageFolder(str(val_dir), transform=tf)
    print(f"classes (ImageFolder order): {train.classes}")
    loader = torch.utils.data.DataLoader(train, batch_size=32, shuffle=True)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-4)
    for epoch in range(args.epochs):
        model.train()
        losses = []
        for x, y in loader:
            loss = torch.nn.functional.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        print(f"epoch {epoch + 1}/{args.epochs}: loss {np.mean(losses):.3f}")
    model.eval()
    with torch.no_grad():
        x = torch.stack([val[i][0] for i in range(len(val))])
        y = torch.tensor(val.targets)
        acc = (model(x).argmax(1) == y).float().mean().item()
    print(f"val accuracy {acc:.2f} on {len(val)} images")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v.half() if v.is_floating_point() else v for k, v in model.state_dict().items()}, str(args.out))
    print(f"saved {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
