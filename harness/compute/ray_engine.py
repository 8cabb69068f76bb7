"""Ray as the grid's engine: actors that each hold a loaded model and take chunks of images.

``python -m harness run ... --engine ray [--address HOST:PORT]`` joins an
existing cluster, or starts a local Ray for the run and stops it after.
Each actor is a :class:`harness.compute.engines.Worker` (``num_cpus=1``, and
``num_gpus=1`` or ``--gpus-per-worker`` where the cluster has GPUs, so Ray
gives it its own device); it keeps the last model it loaded, and the driver
hands out chunks in model order, so each actor loads a model about once.
Chunks carry their preprocessed input and results travel back to the
driver, which writes the store: workers need no shared filesystem, only the
harness installed and the models' weights where they are not random.

A worker process that dies is restarted by Ray (``max_restarts``) and its
chunk retried (``max_task_retries``); a chunk that still fails is submitted
again up to :data:`RESUBMITS` times, then reported as that task's failure.
Install with ``pip install xai-harness[ray]``.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from .engines import Job, JobQueue, JobResult, Worker

MAX_RESTARTS = 4
RESUBMITS = 2


class RayEngine:
    name = "ray"

    def __init__(
        self,
        weights=None,
        *,
        random_ok: bool = False,
        address: str | None = None,
        workers: int | None = None,
        gpus_per_worker: float | None = None,
        threads: int | None = 1,
        num_cpus: int | None = None,
    ) -> None:
        try:
            import ray  # lazy: optional extra [ray]
        except ImportError as exc:  # the optional extra
            raise SystemExit("--engine ray needs Ray: pip install 'xai-harness[ray]'") from exc
        self._ray = ray
        self._owns = False
        if not ray.is_initialized():
            kw: dict[str, Any] = dict(include_dashboard=False, logging_level="ERROR", log_to_driver=False)
            if address:
                ray.init(address=address, **kw)
            else:
                ray.init(num_cpus=num_cpus, **kw)
            self._owns = True
        res = ray.cluster_resources()
        gpus = gpus_per_worker if gpus_per_worker is not None else (1.0 if res.get("GPU", 0) >= 1 else 0.0)
        n = workers or (int(res.get("GPU", 0) // gpus) if gpus else int(res.get("CPU", 1)))
        actor = ray.remote(num_cpus=1, num_gpus=gpus, max_restarts=MAX_RESTARTS, max_task_retries=MAX_RESTARTS)(Worker)
        device = "cuda" if gpus else "cpu"
        self.device_type = device
        self.actors = [
            actor.remote(weights, random_ok=random_ok, device=device, threads=threads) for _ in range(max(1, n))
        ]
        self._idle = deque(self.actors)
        self._queue = JobQueue()
        self._inflight: dict[Any, tuple[Any, Job]] = {}  # ObjectRef -> (actor handle, job)
        self._tries: dict[int, int] = {}
        self.gpus_per_worker = gpus
        self.pids: set[int] = set()  # worker processes that answered

    def describe(self) -> str:
        gpu = f", {self.gpus_per_worker:g} GPU each" if self.gpus_per_worker else ", CPU"
        return f"ray ({len(self.actors)} actors{gpu})"

    def submit(self, job: Job) -> None:
        self._queue.push(job)
        self._dispatch()

    def _dispatch(self) -> None:
        while self._idle and len(self._queue):
            actor, job = self._idle.popleft(), self._queue.pop()
            self._inflight[actor.run.remote(job)] = (actor, job)  # type: ignore[attr-defined]

    @property
    def pending(self) -> int:
        return len(self._queue) + len(self._inflight)

    def next(self) -> JobResult:
        ray = self._ray
        while True:
            (ref,), _ = ray.wait(list(self._inflight), num_returns=1)
            actor, job = self._inflight.pop(ref)
            self._idle.append(actor)
            try:
                out = ray.get(ref)
            except (ray.exceptions.RayActorError, ray.exceptions.WorkerCrashedError) as exc:
                tries = self._tries.get(job.id, 0) + 1
                self._tries[job.id] = tries
                if tries <= RESUBMITS:  # Ray's own retries are spent: submit the chunk again
                    self._queue.push(job, front=True)
                    self._dispatch()
                    continue
                out = JobResult(job.id, error=f"{type(exc).__name__}: worker died {tries} times: {exc}")
            self._dispatch()
            self.pids.add(out.pid)
            return out

    def close(self) -> None:
        ray = self._ray
        for a in self.actors:
            ray.kill(a)
        self.actors, self._inflight = [], {}
        if self._owns:
            ray.shutdown()
