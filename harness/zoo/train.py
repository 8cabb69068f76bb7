"""Train the zoo: one reproducible command, CPU-sized, CUDA when present.

``python -m harness zoo train --models all --epochs 12 --budget-min 6 --seed 0``

* Data: :mod:`harness.zoo.shapes` train/val/test splits from ``--data-seed``,
  generated once per process and shared by all models.
* Optimiser: AdamW with warm-up and cosine decay, label smoothing 0.1,
  random horizontal flips; the best validation epoch is kept.
* Budget: training stops after ``--epochs`` or when ``--budget-min`` per
  model runs out (whichever comes first) or once validation accuracy
  reaches ``--stop-at``; the manifest says which.
* Output: ``<out>/<name>.safetensors`` (float16) and an entry in
  ``<out>/manifest.json`` with data seed, commit, history and test metrics
  measured *after* reloading the saved file.

A model whose config names ``init_from`` (``zoo_efficientnet_lite0``)
starts from that model's real weights: its stem and first five stages stay
frozen (their outputs are computed once and cached), the rest is
fine-tuned.
"""

from __future__ import annotations

import hashlib
import math
import sys
import time
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from ..core.atomic import write_atomic
from ..core.provenance import git_commit
from ..models import get_model_cfg, list_models, load_model, pick_device
from ..models.config import ModelCfg
from ..models.loading import build_module
from ..models.weights import ZOO_DIR
from ..models.zoo import trained_on
from .evaluate import evaluate_module
from .manifest import read_manifest, update_manifest
from .shapes import make_split

LITE_FROZEN = 5  # blocks.0..4 of EfficientNet-Lite0 stay at their ImageNet weights

# Default (epochs, learning rate) per model: sized so that each fits about
# 8 CPU minutes on one core; ``--epochs``/``--lr`` override them.  Epochs,
# not wall time, fix the schedule, so a run is reproducible; the budget is
# only a safety stop (and the manifest records whether it fired).
PLAN: dict[str, tuple[int, float]] = {
    "zoo_resnet": (3, 2e-3),
    "zoo_densenet": (3, 2e-3),
    "zoo_efficientnet": (4, 2e-3),
    "zoo_mobilenetv3": (8, 2e-3),
    "zoo_convnext": (10, 2e-3),
    "zoo_vit_p16": (20, 1e-3),
    "zoo_vit_p32": (25, 1e-3),
    "zoo_deit_distilled": (20, 1e-3),
    "zoo_swin": (5, 1e-3),
    "zoo_pvt_v2": (5, 1e-3),
    "zoo_efficientnet_lite0": (6, 1e-3),
    "zoo_resnet_spurious": (3, 2e-3),
    "zoo_vit_p16_spurious": (20, 1e-3),
}


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


@dataclass
class Split:
    images: torch.Tensor  # [N, 3, 224, 224] uint8
    labels: torch.Tensor  # [N] int64

    def __len__(self) -> int:
        return len(self.labels)


def make_data(seed: int, n_train: int, n_val: int, n_test: int, *, spurious: bool = False) -> dict[str, Split]:
    """The train/val/test splits of ``shapes`` (``spurious``: of ``shapes-spurious``)."""
    out = {}
    for split, n in (("train", n_train), ("val", n_val), ("test", n_test)):
        t0 = time.perf_counter()
        images, _, labels = make_split(
            seed, split, n, spurious=spurious, progress=lambda i, k, s=split: log(f"  {s}: {i}/{k}")
        )
        out[split] = Split(torch.from_numpy(images).permute(0, 3, 1, 2).contiguous(), torch.from_numpy(labels))
        log(f"data {split}: {n} images in {time.perf_counter() - t0:.1f}s")
    return out


def normaliser(cfg: ModelCfg, device: torch.device):
    mean = torch.tensor(cfg.mean, device=device).view(1, 3, 1, 1) * 255
    std = torch.tensor(cfg.std, device=device).view(1, 3, 1, 1) * 255

    def norm(x: torch.Tensor) -> torch.Tensor:
        return (x.to(device).float() - mean) / std

    return norm


# -- models ------------------------------------------------------------------
class LiteSplit(nn.Module):
    """EfficientNet-Lite0 as a frozen prefix (cached) and a trainable suffix."""

    def __init__(self, model: Any) -> None:  # a timm EfficientNet (conv_stem, bn1, blocks, conv_head, bn2)
        super().__init__()
        self.model = model
        for mod in (model.conv_stem, model.bn1, *model.blocks[:LITE_FROZEN]):
            for p in mod.parameters():
                p.requires_grad_(False)

    def prefix(self, x: torch.Tensor) -> torch.Tensor:
        m = self.model
        x = m.bn1(m.conv_stem(x))
        for b in m.blocks[:LITE_FROZEN]:
            x = b(x)
        return x

    def forward(self, f: torch.Tensor) -> torch.Tensor:
        m = self.model
        for b in m.blocks[LITE_FROZEN:]:
            f = b(f)
        return m.forward_head(m.bn2(m.conv_head(f)))

    def train(self, mode: bool = True):  # the frozen prefix keeps its BatchNorm statistics
        super().train(mode)
        for mod in (self.model.conv_stem, self.model.bn1, *self.model.blocks[:LITE_FROZEN]):
            mod.eval()
        return self


def initial_module(cfg: ModelCfg, seed: int) -> tuple[nn.Module, str]:
    """Random init (seeded), or the real weights of ``cfg.init_from`` (transfer learning) without its head."""
    torch.manual_seed(seed)
    if not cfg.init_from:
        return build_module(cfg), "random init"
    base = load_model(cfg.init_from, device="cpu")
    module = build_module(cfg)
    state = {k: v for k, v in base.module.state_dict().items() if not k.startswith("classifier.")}
    missing, unexpected = module.load_state_dict(state, strict=False)
    if unexpected or set(missing) != {"classifier.weight", "classifier.bias"}:
        raise ValueError(
            f"{cfg.name}: weights of {cfg.init_from} do not fit outside the classifier "
            f"(missing {missing}, unexpected {unexpected})"
        )
    return module, _described(base)


def _described(base) -> str:
    """Where the starting weights came from: a package's name and version, else the file."""

    package = base.cfg.weights_package
    if base.weights.kind == "package" and package:
        dist = package.replace("_", "-")
        try:
            return f"{dist} {version(dist)} ({base.cfg.label_space}, {base.weights.path.name})"
        except PackageNotFoundError:
            pass
    return f"{base.cfg.name} weights {base.weights.describe()}"


@torch.no_grad()
def predict(forward, images: torch.Tensor, norm, batch: int = 128) -> torch.Tensor:
    out = []
    for i in range(0, len(images), batch):
        out.append(forward(norm(images[i : i + batch])).float().cpu())
    return torch.cat(out)


# -- training ----------------------------------------------------------------
def train_one(
    name: str,
    data: dict[str, Split],
    *,
    seed: int,
    epochs: int,
    budget_s: float,
    stop_at: float,
    batch: int,
    lr: float,
    device: torch.device,
) -> tuple[nn.Module, dict]:
    cfg = get_model_cfg(name)
    module, init = initial_module(cfg, seed)
    module = module.to(device)
    norm = normaliser(cfg, device)
    train, val = data["train"], data["val"]
    if cfg.init_from:  # fine-tuning: the frozen prefix's features are computed once
        net: nn.Module = LiteSplit(module).to(device)
        t0 = time.perf_counter()
        net.eval()
        feats = {s: predict(net.prefix, data[s].images, norm) for s in ("train", "val")}
        log(f"{name}: cached frozen features in {time.perf_counter() - t0:.0f}s")
        inputs = {"train": feats["train"], "val": feats["val"]}
        prep = lambda x: x.to(device)
    else:
        net = module
        inputs = {"train": train.images, "val": val.images}
        prep = norm
    params = [p for p in net.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.05)
    steps_per_epoch = math.ceil(len(train) / batch)
    total, warm = epochs * steps_per_epoch, steps_per_epoch // 2
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / max(1, warm)) * 0.5 * (1 + math.cos(math.pi * min(s, total) / total))
    )
    loss_fn = nn.CrossEntropyLoss(label_smoothing=0.1)
    gen = torch.Generator().manual_seed(seed)
    history, best, best_state = [], -1.0, None
    start, stopped = time.perf_counter(), "epochs"
    for epoch in range(1, epochs + 1):
        net.train()
        t0, seen, loss_sum, correct = time.perf_counter(), 0, 0.0, 0
        order = torch.randperm(len(train), generator=gen)
        for b in range(steps_per_epoch):
            idx = order[b * batch : (b + 1) * batch]
            x, y = prep(inputs["train"][idx]), train.labels[idx].to(device)
            if not cfg.init_from:  # cached features cannot be flipped
                flip = torch.rand(len(idx), generator=gen) < 0.5
                x = torch.where(flip.view(-1, 1, 1, 1).to(device), x.flip(-1), x)
            logits = net(x)
            loss = loss_fn(logits, y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            seen += len(idx)
            loss_sum += float(loss.detach()) * len(idx)
            correct += int((logits.argmax(1) == y).sum())
            if (b + 1) % 25 == 0:
                log(
                    f"  {name} epoch {epoch} batch {b + 1}/{steps_per_epoch} loss {loss_sum / seen:.3f} "
                    f"({time.perf_counter() - t0:.0f}s)"
                )
            if time.perf_counter() - start > budget_s:
                stopped = "budget"
                break
        net.eval()
        val_logits = predict(net, inputs["val"], prep)
        val_loss = float(loss_fn(val_logits, val.labels))
        val_acc = float((val_logits.argmax(1) == val.labels).float().mean())
        row = dict(
            epoch=epoch,
            train_loss=round(loss_sum / seen, 4),
            train_acc=round(correct / seen, 4),
            val_loss=round(val_loss, 4),
            val_acc=round(val_acc, 4),
            seconds=round(time.perf_counter() - t0, 1),
            images=seen,
        )
        history.append(row)
        log(
            f"{name} epoch {epoch}/{epochs}: train loss {row['train_loss']:.3f} acc {row['train_acc']:.3f} | "
            f"val loss {val_loss:.3f} acc {val_acc:.3f} | {row['seconds']:.0f}s"
        )
        if val_acc > best:
            best, best_state = val_acc, {k: v.detach().clone() for k, v in module.state_dict().items()}
        if stopped == "budget":
            break
        if val_acc >= stop_at:
            stopped = f"val_acc>={stop_at}"
            break
    if best_state is None:
        raise RuntimeError(f"{name}: no epoch finished within the budget of {budget_s:.0f}s")
    module.load_state_dict(best_state)
    info = dict(
        init=init,
        seed=seed,
        epochs_max=epochs,
        epochs_run=len(history),
        stopped_by=stopped,
        budget_s=budget_s,
        seconds=round(time.perf_counter() - start, 1),
        batch=batch,
        lr=lr,
        optimiser="AdamW wd=0.05, warm-up + cosine, label smoothing 0.1, h-flip",
        frozen=f"conv_stem, bn1, blocks.0-{LITE_FROZEN - 1}" if cfg.init_from else "",
        device=str(device),
        best_val_acc=round(best, 4),
        history=history,
    )
    return module.eval(), info


def save_weights(module: nn.Module, path: Path, meta: dict[str, str]) -> str:
    state = {
        k: v.detach().to("cpu", torch.float16 if v.is_floating_point() else v.dtype).contiguous()
        for k, v in module.state_dict().items()
    }
    write_atomic(path, lambda tmp: save_file(state, str(tmp), metadata=meta))
    return hashlib.sha256(path.read_bytes()).hexdigest()


def train_zoo(
    models: list[str],
    *,
    out: Path = ZOO_DIR,
    seed: int = 0,
    data_seed: int = 0,
    epochs: int | None = None,
    budget_min: float = 10.0,
    stop_at: float = 0.99,
    n_train: int = 6000,
    n_val: int = 500,
    n_test: int = 1000,
    batch: int = 64,
    lr: float | None = None,
    device: str = "auto",
    threads: int | None = None,
) -> dict:
    """Train ``models`` and record each in ``out/manifest.json`` as soon as it finishes."""
    if threads:
        torch.set_num_threads(threads)
    dev = pick_device(device)
    zoo = set(list_models(source="zoo"))
    unknown = [m for m in models if m not in zoo]
    if unknown:
        raise ValueError(f"not zoo models: {unknown}; choose from {sorted(zoo)}")
    datasets: dict[str, dict[str, Split]] = {}  # one per shapes variant the models were trained on
    commit = git_commit(Path(__file__).resolve().parents[2])
    for name in models:
        log(f"== {name} ==")
        dataset = trained_on(get_model_cfg(name))
        if dataset not in datasets:
            datasets[dataset] = make_data(data_seed, n_train, n_val, n_test, spurious=dataset == "shapes-spurious")
        data = datasets[dataset]
        plan_epochs, plan_lr = PLAN.get(name, (10, 1e-3))
        module, info = train_one(
            name,
            data,
            seed=seed,
            epochs=epochs or plan_epochs,
            budget_s=budget_min * 60,
            stop_at=stop_at,
            batch=batch,
            lr=lr or plan_lr,
            device=dev,
        )
        path = out / f"{name}.safetensors"
        cfg = get_model_cfg(name)
        sha = save_weights(
            module,
            path,
            {"model": name, "arch": cfg.arch, "dataset": dataset, "data_seed": str(data_seed), "commit": commit},
        )
        # Measure what was saved: reload the float16 file before testing.
        reloaded = build_module(cfg)
        reloaded.load_state_dict(load_file(str(path)))
        metrics = evaluate_module(reloaded.to(dev).eval(), cfg, data["test"].images, data["test"].labels)
        entry = dict(
            arch=cfg.arch,
            family=cfg.family,
            create_kwargs={k: v for k, v in cfg.create_kwargs},
            params=sum(p.numel() for p in module.parameters()),
            file=path.name,
            sha256=sha,
            bytes=path.stat().st_size,
            dtype="float16",
            commit=commit,
            data=dict(dataset=dataset, seed=data_seed, n_train=n_train, n_val=n_val, n_test=n_test),
            training=info,
            test=dict(top1=metrics["top1"], macro_auc=metrics["macro_auc"], per_class=metrics["per_class"]),
            torch=torch.__version__,
            timm=__import__("timm").__version__,
        )
        update_manifest(out, name, entry)
        log(
            f"{name}: test top-1 {metrics['top1']:.4f}, macro AUC {metrics['macro_auc']:.4f}; saved {path} "
            f"({path.stat().st_size / 1e6:.2f} MB)"
        )
    return read_manifest(out)
