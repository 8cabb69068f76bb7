"""Overlay environments: the current environment with a few packages swapped, one per dependency set.

The base is the **current** environment.  An overlay is a ``venv`` (standard
library, no pip of its own) whose site-packages come first and whose
``_xai_harness_base.pth`` adds the current environment's site directories
after it (``site.addsitedir``, so their ``.pth`` files, editable installs
included, still apply).  The candidate pins are resolved by pip against that
view of the environment (``pip --python OVERLAY install --dry-run --report``),
so only what the pins need is installed, and then installed with
``--no-deps`` into the overlay alone: the current environment is never
written to.  Overlays are cached under ``<cache>/<hash of the pins>``.

A torch build is gigabytes: a set whose resolution installs torch (or a
torch companion, :data:`TORCH_DISTS`) is refused unless ``allow_torch``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import site
import subprocess
import sys
import venv
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, metadata, requires
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement

import harness

from ..core.atomic import write_atomic, write_json

PTH = "_xai_harness_base.pth"
READY = "overlay.json"
TORCH_DISTS = re.compile(r"^(torch|torchvision|torchaudio|triton|nvidia-.*)$")
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([A-Za-z0-9][A-Za-z0-9.+!_-]*)$")


class CandidateError(RuntimeError):
    """A candidate set cannot be built; the message names the pin."""


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class Pin:
    name: str
    version: str

    @classmethod
    def parse(cls, text: str) -> Pin:
        m = _PIN.match(text.strip())
        if not m:
            raise CandidateError(f"candidate {text!r}: give PKG==VERSION (an exact pin)")
        return cls(canonical(m.group(1)), m.group(2))

    def __str__(self) -> str:
        return f"{self.name}=={self.version}"


@dataclass
class Overlay:
    """A built overlay: its interpreter and what it installed over the base."""

    path: Path
    pins: tuple[Pin, ...]
    installed: dict[str, str] = field(default_factory=dict)  # canonical name -> version

    @property
    def python(self) -> Path:
        return self.path / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def base_site_dirs() -> list[str]:
    """The current interpreter's site directories, in ``sys.path`` order (an overlay's own included, so
    an overlay of an overlay sees the whole chain)."""
    known = set(site.getsitepackages() + [site.getusersitepackages()])
    out = [p for p in sys.path if p in known or p.rstrip("/").endswith(("site-packages", "dist-packages"))]
    return list(dict.fromkeys(p for p in out if Path(p).is_dir()))


def pins_hash(pins: tuple[Pin, ...], constraints: Path | None) -> str:
    h = hashlib.sha256()
    h.update(sys.executable.encode() + b"\0" + "\n".join(base_site_dirs()).encode() + b"\0")
    h.update("\n".join(sorted(str(p) for p in pins)).encode() + b"\0")
    if constraints is not None and constraints.is_file():
        h.update(constraints.read_bytes())
    return h.hexdigest()[:16]


def _pip(python: Path, args: list[str], find_links: tuple[str, ...]) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "pip", "--python", str(python), "--disable-pip-version-check", *args]
    for link in find_links:
        cmd += ["--find-links", link]
    return subprocess.run(cmd, capture_output=True, text=True)


def _fail(pins: tuple[Pin, ...], what: str, proc: subprocess.CompletedProcess) -> CandidateError:
    lines = [ln for ln in (proc.stderr or proc.stdout).splitlines() if ln.strip() and "is ignored" not in ln]
    why = lines[-1].strip() if lines else f"pip exited {proc.returncode}"
    return CandidateError(f"candidate {', '.join(map(str, pins))}: {what}: {why}")


def _constraints_file(path: Path, constraints: Path | None, allow_torch: bool) -> Path | None:
    """The project's constraints, less its torch lines when another torch build is allowed."""
    if constraints is None or not constraints.is_file():
        return None
    if not allow_torch:
        return constraints
    kept = [ln for ln in constraints.read_text().splitlines() if not TORCH_DISTS.match(re.split(r"[=<>!~ ;\[]", ln)[0])]
    return write_atomic(path / "constraints.txt", "\n".join(kept) + "\n")


def build_overlay(
    pins: tuple[Pin, ...],
    *,
    cache: Path,
    constraints: Path | None = None,
    find_links: tuple[str, ...] = (),
    allow_torch: bool = False,
) -> Overlay:
    """The overlay for ``pins`` (built, or found in ``cache``); raises :class:`CandidateError`."""
    path = cache / pins_hash(pins, constraints)
    ready = path / READY
    if ready.is_file():
        doc = json.loads(ready.read_text())
        return Overlay(path, pins, dict(doc["installed"]))
    if path.exists():
        shutil.rmtree(path)  # a build that died half-way

    venv.EnvBuilder(with_pip=False, clear=True).create(path)
    try:
        return _install(path, pins, constraints, find_links, allow_torch)
    except BaseException:
        shutil.rmtree(path, ignore_errors=True)
        raise


def _install(
    path: Path, pins: tuple[Pin, ...], constraints: Path | None, find_links: tuple[str, ...], allow_torch: bool
) -> Overlay:
    overlay = Overlay(path, pins)
    purelib = subprocess.run(
        [str(overlay.python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    lines = [f"import site; site.addsitedir({d!r})" for d in base_site_dirs()]
    write_atomic(Path(purelib) / PTH, "\n".join(lines) + "\n")
    cons = _constraints_file(path, constraints, allow_torch)
    cons_args = ["-c", str(cons)] if cons is not None else []
    report = path / "resolution.json"
    proc = _pip(
        overlay.python,
        ["install", "--dry-run", "--quiet", "--report", str(report), *cons_args, *map(str, pins)],
        find_links,
    )
    if proc.returncode != 0:
        raise _fail(pins, "pip cannot resolve it against the current environment", proc)
    resolved = {
        canonical(item["metadata"]["name"]): item["metadata"]["version"]
        for item in json.loads(report.read_text()).get("install", [])
    }
    torch = sorted(f"{n}=={v}" for n, v in resolved.items() if TORCH_DISTS.match(n))
    if torch and not allow_torch:
        raise CandidateError(
            f"candidate {', '.join(map(str, pins))}: refused, it would install another torch build "
            f"({', '.join(torch)}; gigabytes); pass --allow-torch to build it anyway"
        )
    if resolved:
        proc = _pip(
            overlay.python,
            ["install", "--no-deps", "--quiet", *cons_args, *(f"{n}=={v}" for n, v in sorted(resolved.items()))],
            find_links,
        )
        if proc.returncode != 0:
            raise _fail(pins, "pip could not install it", proc)
    overlay.installed = resolved
    write_json(path / READY, {"pins": [str(p) for p in pins], "installed": resolved})
    return overlay


def outside_requirements(installed: Mapping[str, str], dist: str = "xai-harness") -> list[str]:
    """The versions in ``installed`` (canonical name -> version) that ``dist``'s own declared requirements
    exclude, one line each (``quantus==0.5.3 is outside xai-harness's requirement quantus>=0.6``).

    Extras count: a requirement under an extra is checked as if that extra were installed.  An
    unknown ``dist`` (the harness run from a source tree without its metadata) gives no lines.
    """
    try:
        declared = requires(dist) or []
        extras = [""] + list(metadata(dist).get_all("Provides-Extra") or [])
    except PackageNotFoundError:
        return []
    out = []
    for text in declared:
        try:
            req = Requirement(text)
        except InvalidRequirement:
            continue
        have = installed.get(canonical(req.name))
        if have is None or not req.specifier or req.specifier.contains(have, prereleases=True):
            continue
        if req.marker is not None and not any(req.marker.evaluate({"extra": e}) for e in extras):
            continue
        out.append(f"{req.name}=={have} is outside {dist}'s requirement {req.name}{req.specifier}")
    return out


def subprocess_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for a harness subprocess: this copy of ``harness`` importable (when it is not
    installed in a site directory, which the overlay sees anyway), one thread unless set."""

    env = dict(os.environ)
    root = str(Path(harness.__file__).resolve().parent.parent)
    if root not in base_site_dirs():
        env["PYTHONPATH"] = os.pathsep.join([root] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    env.setdefault("OMP_NUM_THREADS", "1")
    env.update(extra or {})
    return env
