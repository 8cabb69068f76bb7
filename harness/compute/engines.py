"""Where a grid's chunks run: in this process, or on Ray actors (:mod:`harness.compute.ray_engine`).

A :class:`Job` is self-contained: the model's name and expected weights
hash, the preprocessed input as a float32 array, the explainer and its
parameters and the targets, so a worker needs no store and no image files.
A :class:`Worker` keeps one loaded model and answers jobs with a
:class:`JobResult`; the driver (:func:`harness.suite.grid.run_grid`) writes the
store.  Both engines run the same :class:`Worker`, which is why their
results are equal bit for bit on the CPU (same batches, same thread count).

An engine has ``submit(job)``, ``next() -> JobResult`` (in any order),
``pending`` and ``close()``.
"""

from __future__ import annotations

import contextlib
import heapq
import os
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ..models import LoadedModel, WeightsOptions, load_model
from .chunks import ChunkResult, explain_chunk


@dataclass
class Job:
    """One chunk of work: ``logits`` of some images, or their explanations for given targets."""

    id: int
    kind: str  # "logits" | "explain"
    model: str
    weights_sha: str
    x: np.ndarray  # [N, C, H, W] float32, preprocessed for the model
    explainer: str = ""
    params: tuple[tuple[str, Any], ...] = ()
    targets: np.ndarray | None = None
    batch: int | None = None
    order: int = 0  # the model's place in the grid: engines run lower orders first (then submission order)

    @property
    def what(self) -> str:
        return f"{self.explainer} x {self.model}" if self.kind == "explain" else f"predictions x {self.model}"


@dataclass
class JobResult:
    job_id: int
    logits: np.ndarray | None = None
    chunk: ChunkResult | None = None
    model_label: str = ""
    weights_kind: str = ""
    error: str | None = None
    pid: int = 0
    loads: dict[str, int] = field(default_factory=dict)  # model -> times this worker loaded it


@contextlib.contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """Run with ``n`` torch intra-op threads (None: as they are), restored after."""
    if not n:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(int(n))
    try:
        yield
    finally:
        torch.set_num_threads(before)


class Worker:
    """Holds one loaded model (the last one asked for) and runs jobs on it."""

    LOGITS_BATCH = 16  # as Runner.predictions

    def __init__(
        self,
        weights: WeightsOptions | None = None,
        *,
        random_ok: bool = False,
        device: str = "auto",
        threads: int | None = None,
    ) -> None:
        self.weights = weights or WeightsOptions.from_env()
        self.random_ok = random_ok
        self.device = device
        self.threads = threads
        self._loaded: LoadedModel | None = None
        self.loads: dict[str, int] = {}

    def pid(self) -> int:
        return os.getpid()

    def _model(self, name: str, sha: str) -> LoadedModel:
        loaded = self._loaded
        if loaded is None or loaded.name != name:
            self._loaded = None
            with torch_threads(self.threads):
                loaded = load_model(name, weights=self.weights, device=self.device, random_ok=self.random_ok)
            self._loaded = loaded
            self.loads[name] = self.loads.get(name, 0) + 1
        if sha and loaded.weights.sha256 != sha:
            raise RuntimeError(
                f"{name}: this worker's weights ({loaded.weights.describe()}, sha256 "
                f"{loaded.weights.sha256[:12]}) differ from the driver's ({sha[:12]})"
            )
        return loaded

    def run(self, job: Job) -> JobResult:
        """Answer ``job``; an exception becomes ``error`` (the driver names the case and goes on)."""
        try:
            loaded = self._model(job.model, job.weights_sha)
            x = torch.from_numpy(np.ascontiguousarray(job.x, dtype=np.float32)).to(loaded.device)
            out = JobResult(job.id, model_label=loaded.label, weights_kind=loaded.weights.kind, pid=os.getpid())
            with torch_threads(self.threads):
                if job.kind == "logits":
                    rows = []
                    with torch.no_grad():
                        for i in range(0, len(x), self.LOGITS_BATCH):
                            rows.append(loaded(x[i : i + self.LOGITS_BATCH]).float().cpu().numpy())
                    out.logits = np.concatenate(rows)
                else:
                    from ..explainers import create_explainer

                    explainer = create_explainer(job.explainer, **dict(job.params))
                    targets = torch.as_tensor(np.asarray(job.targets))
                    out.chunk = explain_chunk(loaded, explainer, x, targets, batch=job.batch)
        except Exception as exc:
            out = JobResult(job.id, error=f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=4)}")
        out.pid = os.getpid()
        out.loads = dict(self.loads)
        return out


class JobQueue:
    """Jobs by (model order, submission): a late job of the current model (a target probe that depends on
    its maps) runs before the next model's queued chunks, so a worker does not switch models back and forth."""

    def __init__(self) -> None:
        self._heap: list[tuple[int, int, Job]] = []
        self._seq = 0

    def push(self, job: Job, *, front: bool = False) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (job.order, -self._seq if front else self._seq, job))

    def pop(self) -> Job:
        return heapq.heappop(self._heap)[2]

    def __len__(self) -> int:
        return len(self._heap)


class LocalEngine:
    """Runs jobs one after another in this process, the current model's first."""

    name = "local"

    def __init__(self, worker: Worker) -> None:
        from ..models.loading import pick_device

        self.worker = worker
        self.device_type = pick_device(worker.device).type
        self._queue = JobQueue()

    def submit(self, job: Job) -> None:
        self._queue.push(job)

    @property
    def pending(self) -> int:
        return len(self._queue)

    def next(self) -> JobResult:
        return self.worker.run(self._queue.pop())

    def describe(self) -> str:
        return (
            f"local (1 process, {torch.get_num_threads() if not self.worker.threads else self.worker.threads} threads)"
        )

    def close(self) -> None:
        self._queue = JobQueue()
