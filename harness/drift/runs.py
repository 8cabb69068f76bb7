"""One side of a diff: the explanations (and what a report folder adds) of one run.

A side is given as

* a **run folder** that ``python -m harness drift`` writes (``run.json``: store,
  library versions, selection), or a **report folder** of a pytest run
  (``summary.json``: its settings name the store, and ``versions`` the libraries);
  the folder's ``leaderboard.json``, ``consensus.json`` and ``summary.json`` cases
  then join the diff;
* a **store** plus a selection (``--models``, ``--explainers``) and, where the store
  holds the same case under several library versions, ``--env-a``/``--env-b``
  (``captum=0.8.0,...``) to say which.

Cases are keyed by model x explainer x image (:class:`CaseId`); the explained
class is recorded beside, so a changed prediction shows instead of hiding the case.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import numpy as np

from ..compute.store import Store, canonical_json
from ..explainers.registry import EXPLAINERS

RUN_FILE = "run.json"
SUMMARY_FILE = "summary.json"


class RunSpecError(ValueError):
    """A side of a diff cannot be read; the message names it."""


@dataclass(frozen=True, order=True)
class CaseId:
    """model x explainer x image (the explainer's parameters beside it when not the defaults)."""

    model: str
    explainer: str
    image: str
    params: str = ""

    @property
    def label(self) -> str:
        extra = f" {self.params}" if self.params else ""
        return f"{self.explainer}{extra} x {self.model} / {self.image}"

    @property
    def pair(self) -> tuple[str, str]:
        return (self.model, self.explainer)


@dataclass(frozen=True)
class MapRef:
    """Where one stored explanation lies, and what it explained."""

    path: Path
    target: int
    digest: str  # the image's pixel digest
    versions: dict[str, str]


@dataclass
class Run:
    """The explanations of one side, with the report files of a report folder."""

    name: str
    store: Store
    maps: dict[CaseId, MapRef]
    settings: dict[str, Any] = field(default_factory=dict)
    folder: Path | None = None
    versions: dict[str, str] = field(default_factory=dict)

    def attribution(self, case: CaseId) -> np.ndarray:
        return np.asarray(self.store.arrays_at(self.maps[case].path)["attribution"], dtype=np.float64)

    def report_file(self, name: str) -> Any:
        """A JSON file of the report folder (None when absent or not a folder)."""
        if self.folder is None or not (self.folder / name).is_file():
            return None
        try:
            return json.loads((self.folder / name).read_text())
        except ValueError as exc:
            raise RunSpecError(f"{self.folder / name}: not JSON ({exc})") from exc


@dataclass(frozen=True)
class Selection:
    """Which cases of a store form a run: fnmatch patterns and pinned library versions."""

    models: tuple[str, ...] = ("*",)
    explainers: tuple[str, ...] = ("*",)
    env: tuple[tuple[str, str], ...] = ()  # (distribution, version) the entry's versions must show

    @classmethod
    def parse(cls, models: str | None, explainers: str | None, env: str | None = None) -> Selection:
        def pats(text: str | None) -> tuple[str, ...]:
            return tuple(p.strip() for p in text.split(",") if p.strip()) if text else ("*",)

        pins = []
        for item in (env or "").split(","):
            if not item.strip():
                continue
            dist, sep, ver = item.strip().partition("=")
            if not sep:
                raise RunSpecError(f"--env {item!r}: give DIST=VERSION")
            pins.append((dist.strip(), ver.strip().lstrip("=")))
        return cls(pats(models), pats(explainers), tuple(pins))

    def with_env(self, versions: dict[str, str]) -> Selection:
        return Selection(self.models, self.explainers, tuple(sorted(versions.items())))

    def accepts(self, fields: dict[str, Any]) -> bool:
        if not any(fnmatch(fields.get("model", ""), p) for p in self.models):
            return False
        if not any(fnmatch(fields.get("explainer", ""), p) for p in self.explainers):
            return False
        have = entry_versions(fields)  # a pin on a distribution the entry's key does not carry does not apply
        return all(have[d] == v for d, v in self.env if d in have)


def entry_versions(fields: dict[str, Any]) -> dict[str, str]:
    """Every library version an explanation entry's key carries (``versions`` and ``dists``)."""
    return {**fields.get("versions", {}), **fields.get("dists", {})}


def _params_label(explainer: str, params: dict[str, Any]) -> str:
    """The parameters that differ from the explainer's defaults (a case's seed is not a different method)."""

    defaults = dict(EXPLAINERS.get(explainer)[0].defaults) if explainer in EXPLAINERS else {}
    extra = {
        k: v
        for k, v in params.items()
        if k != "seed" and (k not in defaults or canonical_json({k: defaults[k]}) != canonical_json({k: v}))
    }
    return canonical_json(extra) if extra else ""


def read_maps(store: Store, selection: Selection, *, name: str) -> dict[CaseId, MapRef]:
    """The selected explanations of ``store``; an error when one case has several library-version sets."""
    maps: dict[CaseId, MapRef] = {}
    clashes: dict[CaseId, set[str]] = {}
    for path, f, meta in store.scan("explanation"):
        if not selection.accepts(f):
            continue
        case = CaseId(
            f["model"],
            f["explainer"],
            str(meta.get("image_id", f["image"])),
            _params_label(f["explainer"], f["params"]),
        )
        ref = MapRef(path, int(f["target"]), str(f["image"]), entry_versions(f))
        old = maps.get(case)
        if old is not None and old.versions != ref.versions:
            clashes.setdefault(case, set()).update({canonical_json(old.versions), canonical_json(ref.versions)})
            continue
        if old is not None and meta.get("targets_mode", "pred") != "pred":
            continue  # a probe of another class (check_target_respected); the top-1 map stays
        if old is None or meta.get("targets_mode", "pred") == "pred":
            maps[case] = ref
    if clashes:
        case, sets = next(iter(sorted(clashes.items())))
        raise RunSpecError(
            f"{name}: the store holds {len(clashes)} case(s) under several library-version sets "
            f"(e.g. {case.label}: {' | '.join(sorted(sets))}); say which with --env-a/--env-b DIST=VERSION"
        )
    return maps


def load_run(spec: str | Path, selection: Selection, *, name: str = "") -> Run:
    """A side from a run/report folder or a store path (see the module docstring)."""
    path = Path(spec)
    name = name or str(spec)
    if not path.exists():
        raise RunSpecError(f"{name}: no such folder")
    for file in (RUN_FILE, SUMMARY_FILE):
        if (path / file).is_file():
            return _from_folder(path, file, selection, name)
    if (path / "explanation").is_dir():
        store = Store(path)
        return Run(name, store, read_maps(store, selection, name=name), versions=dict(selection.env))
    raise RunSpecError(
        f"{name}: neither a run folder ({RUN_FILE}), a report folder ({SUMMARY_FILE}) nor a store (explanation/)"
    )


def _from_folder(path: Path, file: str, selection: Selection, name: str) -> Run:
    try:
        doc = json.loads((path / file).read_text())
    except ValueError as exc:
        raise RunSpecError(f"{name}: {file} is not JSON ({exc})") from exc
    settings = dict(doc.get("settings", {}))
    named = doc.get("store")  # a run folder's path; a report's summary.json holds store counters there
    store_path = Path((named if isinstance(named, str) else None) or settings.get("store") or "")
    if not store_path.is_absolute():
        store_path = (path / store_path).resolve() if (path / store_path).is_dir() else store_path
    if not (store_path / "explanation").is_dir():
        raise RunSpecError(f"{name}: {file} names the store {store_path}, which holds no explanations")
    versions = {str(k): str(v) for k, v in doc.get("versions", {}).items()}
    if not selection.env and versions:
        # the run's own versions pick its entries, so a store shared by several environments is fine
        selection = selection.with_env(versions)
    store = Store(store_path)
    return Run(name, store, read_maps(store, selection, name=name), settings, path, versions)
