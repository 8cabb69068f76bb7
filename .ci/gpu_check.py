"""The GPU check: one prepared script, run once on a machine with a CUDA GPU (target: under 8 minutes).

    python .ci/gpu_check.py --out gpu-out            # on the GPU machine, the project installed
    python .ci/gpu_check.py --out /tmp/g --quick     # the same code paths on the CPU, small (tests run this)

It writes ``OUT/gpu_check.json`` (and prints it): the device, then per part its wall seconds, the peak
GPU memory (``torch.cuda.max_memory_allocated``) and what it measured:

1. ``thesis``: the thesis preset (the 14 study models x Grad-CAM, IG, KernelSHAP) on declared random
   weights, for cost only, at 224 px on 128 ``shapes`` test images (Grad-CAM on all of them, the costly
   explainers on the first ``--costly-images``), through ``python -m harness run``;
2. ``oom``: the out-of-memory back-off exercised for real: most free GPU memory is taken by a filler
   tensor (about 1.5 GB are left), then saliency on a random-weight ResNet-50 asks for a batch of 64 at
   224 px that cannot fit; the chunk halves its batch until it fits, and the first maps must equal a
   one-image-at-a-time reference;
3. ``overhead``: the overhead benchmarks (ours against Captum and pytorch-grad-cam on identical inputs)
   on the zoo models, with pytest-benchmark's JSON kept in ``OUT/overhead.json``;
4. ``noise``: the noise floor (``harness.checks.noise.measure_floor``, what the drift command and the
   regression baselines record) of Grad-CAM, IG and Saliency on the zoo ResNet and ViT-p16 on the
   device; on CUDA it adds the ``torch.use_deterministic_algorithms`` on/off axis, because PyTorch lists
   the global-average-pool backward as non-deterministic there.

Record the figures in docs/performance.md with the device named.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]


def _peak_reset(dev: torch.device) -> None:
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)
        torch.cuda.reset_peak_memory_stats(dev)


def _peak(dev: torch.device) -> int | None:
    if dev.type != "cuda":
        return None
    torch.cuda.synchronize(dev)
    return int(torch.cuda.max_memory_allocated(dev))


def device_info(dev: torch.device) -> dict:
    info = {"torch": torch.__version__, "device": str(dev)}
    if dev.type == "cuda":
        props = torch.cuda.get_device_properties(dev)
        info |= {"name": props.name, "memory_bytes": int(props.total_memory), "cuda": torch.version.cuda}
    return info


def thesis_cost(out: Path, dev: torch.device, *, quick: bool) -> dict:
    from harness.cli import main as harness_cli

    args = ["run", "--store", str(out / "store"), "--device", dev.type, "--no-progress", "--random-weights-ok"]
    if quick:
        args += ["--models", "zoo_resnet", "--explainers", "gradcam,ig", "--images", "shapes:test:4"]
        args += ["--costly-images", "2"]
    else:
        args += ["--preset", "thesis", "--images", "shapes:test:128", "--costly-images", "16"]
    _peak_reset(dev)
    start = time.perf_counter()
    code = harness_cli(args)
    return {
        "command": "python -m harness " + " ".join(args),
        "exit": code,
        "seconds": round(time.perf_counter() - start, 1),
        "peak_gpu_bytes": _peak(dev),
    }


def oom_backoff(dev: torch.device, *, quick: bool) -> dict:
    """IG on a model whose batch cannot fit beside a filler tensor: the chunk halves until it fits."""
    from harness.compute.chunks import explain_chunk
    from harness.explainers import create_explainer
    from harness.models import load_model

    if dev.type != "cuda" or quick:
        return {"skipped": "no CUDA device (or --quick): the back-off only runs where GPU memory runs out"}
    loaded = load_model("resnet50", random_ok=True, device=str(dev))
    saliency = create_explainer("saliency")  # no step batch of its own: the chunk's batch is what runs out
    x = torch.randn(64, 3, 224, 224, device=dev)
    targets = torch.zeros(64, dtype=torch.long, device=dev)
    free, total = torch.cuda.mem_get_info(dev)
    filler = torch.empty(max(0, int(free - 1.5e9)) // 4, dtype=torch.float32, device=dev)  # leave ~1.5 GB
    _peak_reset(dev)
    start = time.perf_counter()
    try:
        res = explain_chunk(loaded, saliency, x, targets, batch=64)
    finally:
        del filler
        torch.cuda.empty_cache()
    seconds = time.perf_counter() - start
    reference = np.concatenate([np.asarray(saliency(loaded, x[i : i + 1], targets[i : i + 1])) for i in range(4)])
    same = bool(np.allclose(np.asarray(res.attributions[:4], np.float32), reference.astype(np.float32), atol=1e-4))
    return {
        "oom_retries": res.oom_retries,
        "final_batch": res.batch,
        "seconds": round(seconds, 1),
        "peak_gpu_bytes": _peak(dev),
        "free_before_filler_bytes": int(free),
        "total_bytes": int(total),
        "maps_equal_batch_by_batch": same,
    }


def overhead(out: Path, *, quick: bool) -> dict:
    env = {**os.environ, "XAI_HARNESS_BENCH": "1"}
    if not quick:
        env |= {
            "XAI_HARNESS_BENCH_CNN": "zoo_resnet",
            "XAI_HARNESS_BENCH_VIT": "zoo_vit_p16",
            "XAI_HARNESS_BENCH_IMAGES": "8",
            "XAI_HARNESS_BENCH_ROUNDS": "5",
        }
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "tests/test_bench_overhead.py",
        "-q",
        "-p",
        "no:cacheprovider",
        f"--benchmark-json={out / 'overhead.json'}",
    ]
    if quick:
        cmd.append("--benchmark-disable")
    start = time.perf_counter()
    run = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    result: dict = {
        "command": " ".join(cmd),
        "exit": run.returncode,
        "seconds": round(time.perf_counter() - start, 1),
        "tail": run.stdout.strip().splitlines()[-1:] if run.stdout.strip() else run.stderr[-500:],
    }
    bench = out / "overhead.json"
    if bench.is_file():
        doc = json.loads(bench.read_text())
        result["ratios"] = {
            b["name"]: b.get("extra_info", {}).get("ratio_vs_reference")
            for b in doc.get("benchmarks", [])
            if "ratio_vs_reference" in b.get("extra_info", {})
        }
    return result


def noise_floors(out: Path, dev: torch.device, *, quick: bool) -> dict:
    """Each pair's determinism class, spread and axes on the device (the CUDA-only axis included there)."""
    from harness.cases.image_sets import run_image_sets
    from harness.checks.noise import measure_floor
    from harness.compute.runner import Runner
    from harness.compute.store import Store

    models = ("zoo_resnet",) if quick else ("zoo_resnet", "zoo_vit_p16")
    explainers = ("gradcam", "saliency") if quick else ("gradcam", "ig", "saliency")
    images = run_image_sets("shapes:test:4", datasets=str(out / "datasets"))
    runner = Runner(Store(out / "noise-store"), images, device=dev.type)
    start = time.perf_counter()
    floors = {}
    for model in models:
        for explainer in explainers:
            floor = measure_floor(runner, model, explainer, images=2)
            floors[f"{explainer}-{model}"] = {
                "class": floor.determinism,
                "spread": floor.spread,
                "axes": list(floor.axes),
            }
    return {"seconds": round(time.perf_counter() - start, 1), "floors": floors, "peak_gpu_bytes": _peak(dev)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="gpu-out", help="folder for gpu_check.json, the store and overhead.json")
    parser.add_argument("--quick", action="store_true", help="one zoo model, 4 images: the code paths, not figures")
    parser.add_argument("--parts", default="thesis,oom,overhead,noise", help="comma-separated subset of the parts")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    report: dict = {"device": device_info(dev), "quick": args.quick}
    parts = {
        "thesis": lambda: thesis_cost(out, dev, quick=args.quick),
        "oom": lambda: oom_backoff(dev, quick=args.quick),
        "overhead": lambda: overhead(out, quick=args.quick),
        "noise": lambda: noise_floors(out, dev, quick=args.quick),
    }
    for name in args.parts.split(","):
        try:
            report[name] = parts[name]()
        except Exception as exc:  # one part failing keeps the others' figures
            report[name] = {"error": f"{type(exc).__name__}: {exc}"}
        (out / "gpu_check.json").write_text(json.dumps(report, indent=2) + "\n")
        print(f"[gpu-check] {name}: {json.dumps(report[name])[:400]}", flush=True)
    failed = [n for n in args.parts.split(",") if "error" in report[n] or report[n].get("exit") not in (None, 0)]
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
