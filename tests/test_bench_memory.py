"""Benchmark: the main job's peak memory against the number of models (it should not grow with the cases).

Each point runs ``pytest suites/`` in a fresh process on a fresh store, selected to the first N models
of :data:`ORDER` by their id segment (``-k "(-zoo_resnet- or -zoo_vit_p16-)"``: every suite module's cases
of those models), and reads that process's peak resident set from the kernel (``os.wait4``'s rusage,
what ``/usr/bin/time -v`` prints).  ``extra_info`` carries ``peak_rss_mb``, the case count, the case the
summary names as reaching the peak, and ``ratio_vs_first`` (this point's peak over the first point's):
near 1 when memory is flat in the number of cases.

Default points: 1 and 4 models (a few minutes each on 2 cores); ``XAI_HARNESS_BENCH_MEMORY_MODELS=1,4,16``
adds the whole default set (the main job's 16 models with weights: about half an hour).

Timed (marker ``bench``): runs only with ``XAI_HARNESS_BENCH=1`` or ``-m bench``.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.bench  # skipped unless XAI_HARNESS_BENCH=1 or -m bench (tests/conftest.py)

ROOT = Path(__file__).resolve().parents[1]
# trained models first (zoo CNN, zoo ViT, the real ImageNet Lite), then the rest of the main job's models
ORDER = (
    "zoo_resnet",
    "zoo_vit_p16",
    "efficientnet_lite0",
    "zoo_convnext",
    "zoo_deit_distilled",
    "zoo_densenet",
    "zoo_efficientnet",
    "zoo_efficientnet_lite0",
    "zoo_mobilenetv3",
    "zoo_pvt_v2",
    "zoo_swin",
    "zoo_vit_p32",
    "zoo_resnet_spurious",
    "zoo_vit_p16_spurious",
    "efficientnet_lite1",
    "efficientnet_lite2",
)
POINTS = tuple(int(n) for n in os.environ.get("XAI_HARNESS_BENCH_MEMORY_MODELS", "1,4").split(","))
_PEAKS: dict[int, float] = {}


def selection(n: int) -> str:
    """``-k`` for the cases of the first ``n`` models: their id segment, so ``zoo_resnet`` is not its spurious twin
    (in parentheses: an argument that starts with ``-`` would be taken for an option)."""
    return "(" + " or ".join(f"-{m}-" for m in ORDER[:n]) + ")"


def run_suites(n: int, tmp: Path) -> dict:
    """``pytest suites/`` on the first ``n`` models in a fresh process and store: peak RSS, cases, exit code."""
    reports = tmp / f"reports-{n}"
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "suites",
        "-q",
        "-p",
        "no:cacheprovider",
        "-k",
        selection(n),
        "--harness-store",
        str(tmp / f"store-{n}"),
        "--harness-reports",
        str(reports),
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    summary = json.loads((reports / "latest" / "summary.json").read_text())
    cases = summary["cases"]
    peak_line = next((line for line in out.splitlines() if line.startswith("memory: ")), "")
    return dict(
        exit=proc.returncode,
        peak_rss_mb=round(usage.ru_maxrss / 1024, 1),
        cases=len(cases),
        failed=[c["id"] for c in cases if c["outcome"] in ("failed", "error")],
        peak_case=peak_line.rpartition("first reached during ")[2],
        tail=out[-2000:],
    )


@pytest.mark.parametrize("n", POINTS)
def test_peak_memory_with_models(benchmark, tmp_path, n):
    benchmark.group = "main job: peak RSS with models"
    got = benchmark.pedantic(run_suites, args=(n, tmp_path), rounds=1, iterations=1)
    assert got["exit"] in (0, 1) and got["cases"] > 0, got["tail"]
    assert not got["failed"], f"{n} models: failed cases {got['failed'][:5]}"
    _PEAKS[n] = got["peak_rss_mb"]
    first = _PEAKS.get(POINTS[0])
    benchmark.extra_info.update(
        models=list(ORDER[:n]),
        peak_rss_mb=got["peak_rss_mb"],
        cases=got["cases"],
        peak_case=got["peak_case"],
        ratio_vs_first=round(got["peak_rss_mb"] / first, 3) if first else None,
    )
