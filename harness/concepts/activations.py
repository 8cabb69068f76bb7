"""One activation pass over the probe set, shared by CLIP-Dissect and Network Dissection.

For each model the pass records, at the four target layers (25/50/75/100 %
depth) and at the logits:

* ``pooled[layer]``: ``[N, U]`` one value per image and unit, as CLIP-Dissect
  uses them: the spatial mean of a conv map (or of a token grid without a
  class token: Swin, PVT), the CLS token of a ViT block; the logits as they are;
* ``maps[layer]``: ``[N, U, h, w]`` the unit's spatial map, as Network
  Dissection uses it: the layer's activation grid; for the logits, which
  have no map, the class's Grad-CAM at the 100 % layer (exact CAM for
  GAP + linear heads), ReLU'd.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..explainers.tokens import to_grid
from ..images.preprocess import normalize
from ..models.config import DEPTHS

LOGITS = "logits"
LAYERS = (*(str(d) for d in DEPTHS), LOGITS)
# The logits' spatial maps (Network Dissection needs one): Grad-CAM at the 100 % layer (channel
# weights = mean gradient) or gradient x activation summed over channels at each position; both
# are CAM exactly for GAP + linear heads.  ``maps["logits:<variant>"]``.
# ``head`` applies the classifier head to each position of the last feature map on its own (CAM's
# construction, for any head: timm's forward_head on a one-position input).
# ``gradcam_d50``/``gradcam_d75``: the logit's Grad-CAM at the 50 / 75 % layer; ``inputgrad``:
# |gradient x input| summed over colour channels, averaged over 8 x 8 pixel blocks (28 x 28).
LOGIT_MAPS = ("gradcam", "gradxact", "head", "gradcam_d50", "gradcam_d75", "inputgrad")
CAM_DEPTHS = ("50", "75", "100")


@torch.no_grad()
def head_maps(module, cfg, x: torch.Tensor) -> torch.Tensor:
    """``[B, K, h, w]``: the logits that the head gives each position of the final features alone."""
    f = module.forward_features(x)
    if f.ndim == 3:  # tokens [B, N, C]: patch tokens, each standing in for the prefix token(s)
        p = cfg.num_prefix_tokens
        tok = f[:, p:, :]
        b, n, c = tok.shape
        out = module.forward_head(tok.reshape(b * n, 1, c).expand(-1, max(p, 1), -1))
        h, w = cfg.grid_size if cfg.grid_size and cfg.grid_size[0] * cfg.grid_size[1] == n else (int(n**0.5),) * 2
        return out.reshape(b, h, w, -1).permute(0, 3, 1, 2)
    if cfg.layout == "nhwc":
        b, h, w, c = f.shape
        out = module.forward_head(f.reshape(b * h * w, 1, 1, c))
    else:
        b, c, h, w = f.shape
        out = module.forward_head(f.permute(0, 2, 3, 1).reshape(b * h * w, c, 1, 1))
    return out.reshape(b, h, w, -1).permute(0, 3, 1, 2)


@dataclass
class Activations:
    """What one model's units did on the probe set (see the module docstring)."""

    model: str  # the model's label (``_random`` for random weights)
    family: str
    layer_names: dict[str, str]  # depth ("25") -> module name; "logits" -> "logits"
    pooled: dict[str, np.ndarray]
    maps: dict[str, np.ndarray]

    def subset(self, idx: np.ndarray) -> Activations:
        return Activations(
            self.model,
            self.family,
            self.layer_names,
            {k: v[idx] for k, v in self.pooled.items()},
            {k: v[idx] for k, v in self.maps.items()},
        )


def _pool(act: torch.Tensor, cfg) -> torch.Tensor:
    if act.ndim == 3 and cfg.num_prefix_tokens > 0:  # ViT block: the CLS token
        return act[:, 0, :]
    return to_grid(act, cfg).mean(dim=(2, 3))


def _graph_from_here(_module, _inputs, out):
    """Forward hook: the layer's output (or a tuple's first item), detached and requiring grad."""
    if isinstance(out, tuple):
        return (out[0].detach().requires_grad_(True), *out[1:])
    return out.detach().requires_grad_(True)


def _keep_output(store: dict[str, torch.Tensor], depth: str):
    """Forward hook: keep the layer's output (a tuple's first item) in ``store[depth]``."""
    return lambda _m, _i, out: store.__setitem__(depth, out[0] if isinstance(out, tuple) else out)


def _cam_name(depth: str, last: str) -> str:
    return "gradcam" if depth == last else f"gradcam_d{depth}"


@dataclass(frozen=True)
class _GradPlan:
    """Which gradients a pass takes: the layers whose gradient a logit map reads, and whether the input's."""

    logit_maps: tuple[str, ...]
    last: str  # the 100 % layer
    depths: list[str]  # the layers whose gradient a map reads, shallowest first
    to_input: bool  # ``inputgrad``: the gradient goes back to the input
    start_at: str | None  # the layer the graph starts at (None: at the input, the weights' gradients kept)

    @classmethod
    def for_maps(cls, logit_maps: tuple[str, ...]) -> _GradPlan:
        last = str(DEPTHS[-1])
        depths = [d for d in CAM_DEPTHS if _cam_name(d, last) in logit_maps or (d == last and "gradxact" in logit_maps)]
        to_input = "inputgrad" in logit_maps
        # without the input gradient, the weights need no gradient and the graph can start at the first layer
        # whose gradient a map reads: the backbone's activations below it are not kept for a backward pass
        start_at = depths[0] if depths and not to_input else None
        return cls(logit_maps, last, depths, to_input, start_at)


def activation_pass(
    model, images: np.ndarray, *, batch: int = 50, logit_maps: tuple[str, ...] = LOGIT_MAPS
) -> Activations:
    """Run ``model`` (a :class:`~harness.models.LoadedModel`) over ``[N, 224, 224, 3]`` uint8 probe images.

    ``logit_maps`` names the logit map variants to compute (default: all, for tuning); the gradients
    go back only as far as the deepest layer a variant needs (the input only for ``inputgrad``), so a
    pass for Grad-CAM at the 100 % layer alone costs one backward pass through the head per class.
    """
    unknown = set(logit_maps) - set(LOGIT_MAPS)
    if unknown:
        raise ValueError(f"unknown logit map variant(s) {sorted(unknown)}; known: {LOGIT_MAPS}")
    cfg = model.cfg
    names = {str(d): cfg.target_layer(d) for d in DEPTHS}
    modules = {d: model.module.get_submodule(n) for d, n in names.items()}
    pooled: dict[str, list[np.ndarray]] = {k: [] for k in LAYERS}
    maps: dict[str, list[np.ndarray]] = {k: [] for k in (*LAYERS[:-1], *(f"{LOGITS}:{v}" for v in logit_maps))}
    plan = _GradPlan.for_maps(logit_maps)
    trainable = [p for p in model.module.parameters() if p.requires_grad] if plan.start_at is not None else []
    for p in trainable:  # set back in ``finally``: the model is the caller's
        p.requires_grad_(False)
    try:
        for start in range(0, len(images), batch):
            x = torch.from_numpy(images[start : start + batch]).to(model.device).permute(0, 3, 1, 2).float() / 255
            x = normalize(x, cfg)
            store, logits, cams = _forward_backward(model, x, modules, plan)
            for d in names:
                act = store[d].detach()
                pooled[d].append(_pool(act, cfg).float().cpu().numpy())
                maps[d].append(to_grid(act, cfg).half().cpu().numpy())  # float16: the 25 % maps are large
            pooled[LOGITS].append(logits.detach().float().cpu().numpy())
            if "head" in cams:
                cams["head"] = list(head_maps(model.module, cfg, x.detach()).unbind(1))
            for v in logit_maps:
                maps[f"{LOGITS}:{v}"].append(torch.stack(cams[v], 1).detach().float().cpu().numpy())
    finally:
        for p in trainable:
            p.requires_grad_(True)
    return Activations(
        model=model.label,
        family=cfg.family,
        layer_names={**names, LOGITS: LOGITS},
        pooled={k: np.concatenate(v) for k, v in pooled.items()},
        maps={k: np.concatenate(v) for k, v in maps.items()},
    )


def _forward_backward(
    model, x: torch.Tensor, modules: dict[str, torch.nn.Module], plan: _GradPlan
) -> tuple[dict[str, torch.Tensor], torch.Tensor, dict[str, list[torch.Tensor]]]:
    """One batch: the target layers' outputs, the logits, and per logit map variant one map per class.

    ``x`` requires grad afterwards exactly when the plan goes back to the input (set in place, as the
    caller's ``x`` is the one the head maps read)."""
    store: dict[str, torch.Tensor] = {}
    handles = [m.register_forward_hook(_keep_output(store, d)) for d, m in modules.items()]
    if plan.start_at is not None:  # the graph starts at the shallowest layer a map needs: nothing below is kept
        handles.append(modules[plan.start_at].register_forward_hook(_graph_from_here, prepend=True))
    try:
        with torch.enable_grad():
            logits = model.module(x.requires_grad_(plan.to_input))
            cams = _logit_cams(logits, x, store, plan, model.cfg)
    finally:
        for h in handles:
            h.remove()
    return store, logits, cams


def _logit_cams(
    logits: torch.Tensor, x: torch.Tensor, store: dict[str, torch.Tensor], plan: _GradPlan, cfg
) -> dict[str, list[torch.Tensor]]:
    """Per variant, one ``[B, h, w]`` map per class from the gradients of the class's logit (``head`` left empty)."""
    cams: dict[str, list[torch.Tensor]] = {v: [] for v in plan.logit_maps}
    wrt = [store[d] for d in plan.depths] + ([x] if plan.to_input else [])
    for k in range(logits.shape[1] if wrt else 0):
        grads = torch.autograd.grad(logits[:, k].sum(), wrt, retain_graph=True)
        for d, g in zip(plan.depths, grads):
            a, gg = to_grid(store[d].detach(), cfg), to_grid(g, cfg)
            if _cam_name(d, plan.last) in cams:
                cams[_cam_name(d, plan.last)].append(torch.relu(torch.einsum("bc,bchw->bhw", gg.mean(dim=(2, 3)), a)))
            if d == plan.last and "gradxact" in cams:
                cams["gradxact"].append(torch.relu((a * gg).sum(dim=1)))
        if plan.to_input:
            gx = (grads[-1] * x).sum(dim=1, keepdim=True).abs()
            cams["inputgrad"].append(torch.nn.functional.avg_pool2d(gx, 8)[:, 0])
    return cams
