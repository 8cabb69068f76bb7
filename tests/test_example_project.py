"""examples/own-project run as a user runs it: from a wheel of the harness, installed non-editable.

Builds the wheel (``pip wheel --no-deps``), makes a fresh venv that sees the
heavy dependencies (torch, timm, ...) of this environment through a ``.pth``
file instead of copying them, installs the wheel there (``--no-deps``, not
editable), copies the example into a fresh directory and:

1. runs its transfer-learning script for one short epoch (it runs from the wheel);
2. runs its tests: they pass against the committed checkpoint and baselines;
3. perturbs the checkpoint's weights and runs them again: they fail with a
   drift message naming the case and the image.

About a minute on 2 CPU cores; marked ``slow`` (``-m "not slow"`` leaves it out).
"""

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "own-project"

pytestmark = pytest.mark.slow


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    env.update(HF_HUB_OFFLINE="1", PYTHONHASHSEED="0", OMP_NUM_THREADS=env.get("OMP_NUM_THREADS", "2"))
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def _run(cmd, cwd, timeout=300):
    import time

    start = time.perf_counter()
    out = subprocess.run(cmd, cwd=cwd, env=_env(), capture_output=True, text=True, timeout=timeout)
    print(f"{time.perf_counter() - start:6.1f}s  {' '.join(map(str, cmd))[-100:]}")
    return out.returncode, out.stdout + out.stderr


@pytest.fixture(scope="module")
def venv(tmp_path_factory) -> Path:
    """A venv with the harness installed from its wheel, and this environment's packages behind it."""
    tmp = tmp_path_factory.mktemp("wheel")
    build = tmp / "src"  # build from a copy of what the wheel holds, so the checkout gets no build/ or egg-info
    shutil.copytree(ROOT / "harness", build / "harness", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, build / name)
    rc, log = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(tmp), "."],
                   build)  # fmt: skip
    assert rc == 0, log[-3000:]
    (wheel,) = tmp.glob("xai_harness-*.whl")
    env_dir = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env_dir)], check=True)
    py = env_dir / "bin" / "python"
    rc, site = _run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], tmp)
    assert rc == 0, site
    ours = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (Path(site.strip()) / "_host_packages.pth").write_text("\n".join(sorted(ours)) + "\n")
    rc, log = _run([str(py), "-m", "pip", "install", "--no-deps", "--no-index", "--ignore-installed", str(wheel)], tmp)
    assert rc == 0, log[-3000:]
    rc, where = _run([str(py), "-c", "import harness; print(harness.__file__)"], tmp)
    assert rc == 0 and where.strip().startswith(str(env_dir)), f"harness imported from {where.strip()}, not the wheel"
    return py


@pytest.fixture
def project(tmp_path) -> Path:
    dest = tmp_path / "own-project"
    shutil.copytree(EXAMPLE, dest, ignore=shutil.ignore_patterns(".harness", "reports", "train", "*.obtained.json"))
    return dest


def test_example_passes_from_the_wheel_and_names_drift(venv, project):
    rc, log = _run([str(venv), "train.py", "--train-per-class", "2", "--val-per-class", "1", "--epochs", "1",
                    "--data", "scratch", "--out", "scratch/model.safetensors"], project)  # fmt: skip
    assert rc == 0 and "val accuracy" in log, log[-3000:]

    rc, log = _run([str(venv), "-m", "pytest", "-p", "no:cacheprovider", "-q"], project)
    assert rc == 0, log[-4000:]
    # 3 explainers x (4 basic checks + regression + randomisation sanity + 7 metrics); no masks, no IG, no LRP
    assert "39 passed" in log and (project / "reports").is_dir(), log[-2000:]

    import torch
    from safetensors.torch import load_file, save_file

    ckpt = project / "checkpoints" / "shapes_resnet.safetensors"
    state = load_file(str(ckpt))
    gen = torch.Generator().manual_seed(0)
    for k, v in state.items():
        if v.is_floating_point() and v.ndim > 1:  # conv and linear weights: +-20 % noise
            state[k] = (v.float() * (1 + 0.2 * torch.randn(v.shape, generator=gen))).to(v.dtype)
    save_file(state, str(ckpt))
    rc, log = _run([str(venv), "-m", "pytest", "-p", "no:cacheprovider", "-q", "-k", "regression"], project)
    assert rc == 1, log[-4000:]
    assert "gradcam-shapes_resnet: explanations drifted from" in log, log[-4000:]
    # each drift line names the case and the image: "<case> <set>/<class>/<file>: <quantity> old -> new (tol)"
    assert "gradcam-shapes_resnet val/" in log, log[-4000:]
