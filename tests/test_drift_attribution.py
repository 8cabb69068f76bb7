"""``harness drift`` attributes a move to the package that made it, not to one that changed alongside.

Two tiny local packages, each built as two wheels in a temporary folder:

* ``driftexpl`` registers the explainer ``drift_toy`` through the
  ``xai_harness.plugins`` entry point; version 2.0 squares its map;
* ``driftother`` is read by that explainer (declared in ``ExplainerCfg.dists``,
  so its version is in the store keys) but gives the same output in both versions.

The base is an overlay of this environment with both at 1.0; the drift command
runs there with both bumped to 2.0 and must name ``driftexpl==2.0`` alone.
"""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import zipfile
from pathlib import Path

import pytest

from harness.drift.envs import CandidateError, Pin, build_overlay, subprocess_env

EXPL = """
import torch
from harness.explainers import ExplainerCfg
from harness.explainers.registry import RawExplanation
import driftother

POWER = {power}

def pytest_harness_register(registry):
    @registry.explainer(ExplainerCfg(name="drift_toy", title="toy", group="gradient", dists=("driftother",)))
    def drift_toy(model, x, target):
        return RawExplanation((x.abs().mean(1) * driftother.SCALE) ** POWER)
"""
OTHER = "SCALE = 1.0\nVERSION = {version!r}\n"


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def build_wheel(folder: Path, name: str, version: str, files: dict[str, str], entry_points: str = "") -> Path:
    """A pure-Python wheel written by hand (no build backend, no network)."""
    info = f"{name}-{version}.dist-info"
    contents = {path: text.encode() for path, text in files.items()}
    contents[f"{info}/METADATA"] = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode()
    contents[f"{info}/WHEEL"] = b"Wheel-Version: 1.0\nGenerator: hand\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    if entry_points:
        contents[f"{info}/entry_points.txt"] = entry_points.encode()
    record = [_record_line(p, d) for p, d in contents.items()] + [f"{info}/RECORD,,"]
    path = folder / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as zf:
        for p, d in contents.items():
            zf.writestr(p, d)
        zf.writestr(f"{info}/RECORD", "\n".join(record) + "\n")
    return path


@pytest.fixture(scope="module")
def wheels(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("wheels")
    eps = "[xai_harness.plugins]\ndrift_toy = driftexpl\n"
    for version, power in (("1.0", 1), ("2.0", 2)):
        build_wheel(folder, "driftexpl", version, {"driftexpl/__init__.py": EXPL.format(power=power)}, eps)
        build_wheel(folder, "driftother", version, {"driftother/__init__.py": OTHER.format(version=version)})
    return folder


def test_unknown_pin_is_one_clear_error_and_nothing_is_left(wheels, tmp_path):
    with pytest.raises(CandidateError, match=r"driftexpl==9\.9"):
        build_overlay((Pin.parse("driftexpl==9.9"),), cache=tmp_path, find_links=(str(wheels),))
    assert list(tmp_path.iterdir()) == []  # the half-built overlay is removed
    with pytest.raises(CandidateError, match="exact pin"):
        Pin.parse("driftexpl>=1")


def test_a_set_that_pulls_a_torch_build_is_refused(wheels, tmp_path):
    # a hand-built "triton" wheel stands in for a torch companion (no gigabytes are fetched)
    build_wheel(wheels, "triton", "0.0.1", {"triton_fake/__init__.py": ""})
    needs = wheels / "needs"
    needs.mkdir(exist_ok=True)
    wheel = build_wheel(needs, "driftneeds", "1.0", {"driftneeds/__init__.py": ""})
    with zipfile.ZipFile(wheel) as zf:  # add the requirement to its METADATA
        files = {n: zf.read(n) for n in zf.namelist()}
    meta = "driftneeds-1.0.dist-info/METADATA"
    files[meta] += b"Requires-Dist: triton==0.0.1\n"
    files.pop("driftneeds-1.0.dist-info/RECORD")
    record = [_record_line(n, d) for n, d in files.items()] + ["driftneeds-1.0.dist-info/RECORD,,"]
    with zipfile.ZipFile(wheel, "w") as zf:
        for n, d in files.items():
            zf.writestr(n, d)
        zf.writestr("driftneeds-1.0.dist-info/RECORD", "\n".join(record) + "\n")
    links = (str(wheels), str(needs))
    with pytest.raises(CandidateError, match=r"driftneeds==1\.0: refused.*triton==0\.0\.1.*--allow-torch"):
        build_overlay((Pin.parse("driftneeds==1.0"),), cache=tmp_path / "c", find_links=links)
    overlay = build_overlay((Pin.parse("driftneeds==1.0"),), cache=tmp_path / "c", find_links=links, allow_torch=True)
    assert overlay.installed == {"driftneeds": "1.0", "triton": "0.0.1"}


@pytest.mark.slow
def test_drift_names_the_package_that_moved_the_maps(wheels, tmp_path):
    base = build_overlay(
        (Pin.parse("driftexpl==1.0"), Pin.parse("driftother==1.0")), cache=tmp_path / "envs", find_links=(str(wheels),)
    )
    assert base.installed == {"driftexpl": "1.0", "driftother": "1.0"}
    cmd = [
        str(base.python),
        "-m",
        "harness",
        "drift",
        "--candidate",
        "driftexpl==2.0",
        "--candidate",
        "driftother==2.0",
        "--find-links",
        str(wheels),
        "--models",
        "zoo_resnet",
        "--explainers",
        "drift_toy",
        "--zoo-images",
        "2",
        "--noise-images",
        "1",
        "--store",
        str(tmp_path / "store"),
        "--cache",
        str(tmp_path / "envs"),
        "--constraints",
        str(tmp_path / "none.txt"),
        "--out",
        str(tmp_path / "drift"),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path, env=subprocess_env(), timeout=600)
    text = proc.stdout + proc.stderr
    assert proc.returncode == 1, text
    assert "attributed to driftexpl==2.0: 2 case(s) [drift_toy x zoo_resnet]" in proc.stdout, text
    assert "driftother==2.0:" not in proc.stdout.split("attributed")[-1], text
    doc = json.loads((tmp_path / "drift" / "diff" / "attribution.json").read_text())
    assert {a["verdict"] for a in doc["attribution"]} == {"driftexpl==2.0"}
    # the solo driftother run recomputed (its version is in the keys) and moved nothing
    diff = json.loads((tmp_path / "drift" / "diff" / "diff.json").read_text())
    assert diff["versions_b"]["driftother"] == "2.0" and diff["versions_a"]["driftother"] == "1.0"
