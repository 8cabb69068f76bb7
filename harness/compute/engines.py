"""Where explanations and predictions are computed: in process, or on Ray actors (:mod:`harness.compute.ray_engine`).

A :class:`Job` is self-contained: the model's name and expected weights
hash, the preprocessed input as a float32 array, the explainer and its
parameters and the targets, so a worker needs no store and no image files.
A :class:`Worker` keeps its loaded models and answers jobs with a
:class:`JobResult`; the driver writes the store: the grid of ``python -m
harness run`` (:func:`harness.suite.grid.run_grid`) on either engine, and the
runner of a pytest session (:class:`harness.compute.runner.Runner`) on its
own :class:`LocalEngine`.  Every engine runs the same :class:`Worker`, which
is why the grid's results are equal bit for bit on the CPU (same batches,
same thread count); :func:`forward_logits` is the one place predictions are
computed and :func:`~harness.compute.chunks.explain_chunk` the one place maps are.

An engine has ``submit(job)``, ``next() -> JobResult`` (in any order),
``pending`` and ``close()``.
"""

from __future__ import annotations

import contextlib
import heapq
import os
import traceback
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ..explainers import Explainer, create_explainer
from ..models import LoadedModel, WeightsOptions, load_model
from ..models.loading import pick_device
from .chunks import ChunkResult, explain_chunk

LOGITS_BATCH = 16  # images per forward pass of a model's predictions


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
    instance: Explainer | None = None  # in process only: the explainer itself (an unregistered one too)

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


def forward_logits(loaded: LoadedModel, x: torch.Tensor) -> np.ndarray:
    """The logits of ``x`` in batches of :data:`LOGITS_BATCH`: the one place predictions are computed."""
    rows = []
    with torch.no_grad():
        for i in range(0, len(x), LOGITS_BATCH):
            rows.append(loaded(x[i : i + LOGITS_BATCH]).float().cpu().numpy())
    return np.concatenate(rows)


class Worker:
    """Holds the ``keep`` most recently used models (a grid worker: the last one) and runs jobs on them.

    The runner (:class:`harness.compute.runner.Runner`) keeps its session's models in one too, so the
    checks that need the model itself (:meth:`model`) share what the explanations loaded."""

    def __init__(
        self,
        weights: WeightsOptions | None = None,
        *,
        random_ok: bool = False,
        device: str = "auto",
        threads: int | None = None,
        keep: int = 1,
    ) -> None:
        self.weights = weights or WeightsOptions.from_env()
        self.random_ok = random_ok
        self.device = device
        self.threads = threads
        self.keep = max(1, keep)
        self._loaded: OrderedDict[str, LoadedModel] = OrderedDict()  # least recently used first
        self.loads: dict[str, int] = {}

    def pid(self) -> int:
        return os.getpid()

    def model(self, name: str) -> LoadedModel:
        """``name`` loaded (only now, when not held), the least recently used dropped beyond ``keep``."""
        if name in self._loaded:
            self._loaded.move_to_end(name)
            return self._loaded[name]
        while len(self._loaded) >= self.keep:
            self._loaded.popitem(last=False)
        with torch_threads(self.threads):
            loaded = load_model(name, weights=self.weights, device=self.device, random_ok=self.random_ok)
        self._loaded[name] = loaded
        self.loads[name] = self.loads.get(name, 0) + 1
        return loaded

    def _model(self, name: str, sha: str) -> LoadedModel:
        loaded = self.model(name)
        if sha and loaded.weights.sha256 != sha:
            raise RuntimeError(
                f"{name}: this worker's weights ({loaded.weights.describe()}, sha256 "
                f"{loaded.weights.sha256[:12]}) differ from the driver's ({sha[:12]})"
            )
        return loaded

    def compute(self, job: Job) -> JobResult:
        """Answer ``job``, raising what fails (the runner's way: a case fails with its own exception)."""
        loaded = self._model(job.model, job.weights_sha)
        # the input as shipped: the runner's in the layout preprocessing gave it (as it always computed),
        # the grid's C-contiguous (as a worker process receives it), so local and Ray results agree bit for bit
        x = torch.from_numpy(np.asarray(job.x, dtype=np.float32)).to(loaded.device)
        out = JobResult(job.id, model_label=loaded.label, weights_kind=loaded.weights.kind, pid=os.getpid())
        with torch_threads(self.threads):
            if job.kind == "logits":
                out.logits = forward_logits(loaded, x)
            else:
                explainer = job.instance or create_explainer(job.explainer, **dict(job.params))
                targets = torch.as_tensor(np.asarray(job.targets))
                out.chunk = explain_chunk(loaded, explainer, x, targets, batch=job.batch)
        out.loads = dict(self.loads)
        return out

    def run(self, job: Job) -> JobResult:
        """Answer ``job``; an exception becomes ``error`` (the grid's driver names the case and goes on)."""
        try:
            out = self.compute(job)
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

    def __init__(self, worker: Worker, *, raise_errors: bool = False) -> None:
        self.worker = worker
        self.device_type = pick_device(worker.device).type
        self.raise_errors = raise_errors  # the runner's engine: a failure raises instead of becoming ``error``
        self._queue = JobQueue()

    def submit(self, job: Job) -> None:
        self._queue.push(job)

    @property
    def pending(self) -> int:
        return len(self._queue)

    def next(self) -> JobResult:
        job = self._queue.pop()
        return self.worker.compute(job) if self.raise_errors else self.worker.run(job)

    def describe(self) -> str:
        return (
            f"local (1 process, {torch.get_num_threads() if not self.worker.threads else self.worker.threads} threads)"
        )

    def close(self) -> None:
        self._queue = JobQueue()
