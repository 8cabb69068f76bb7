"""Precompute a grid of explanations into the store: what ``pytest suites/`` would compute, ahead.

``python -m harness run`` (:mod:`harness.cli.run`) plans :class:`~harness.cases.Case`
records (model x explainer, with the suites' parameters, seeds and image
limits), then :func:`run_grid` computes what the store lacks, in chunks on
an engine (:mod:`harness.compute.engines`: in process or on Ray actors), and writes
each chunk as it arrives, so a killed run restarted loses only the chunks in
flight.  Per task it computes:

* the predictions (logits) of the model's images;
* the explanations of the first ``limit`` images for their top-1 class
  (what every explanation, regression and metric case of the pair reads);
* the second-class explanations that ``check_target_respected`` probes
  (:func:`harness.checks.basic.target_probe`);
* the other-class explanations of the metrics that re-explain (RandomLogit)
  on the first ``metric_images`` images, with their default parameters.

The keys are the runner's (:meth:`harness.compute.runner.Runner.explanation_fields`),
so a later ``pytest suites/`` on the same selection and store finds them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

import numpy as np

from ..cases import Case, case_params
from ..cases.defaults import COSTLY_IMAGES, METRIC_IMAGES
from ..checks import has_masks
from ..checks.basic import target_probe
from ..compute.engines import LOGITS_BATCH, Job, JobResult
from ..compute.runner import Runner
from ..compute.store import content_key
from ..explainers import get_explainer_cfg
from ..images import ImageRecord
from ..metrics.registry import yield_metrics
from ..models import get_model_cfg


def plan_grid(
    models: Iterable[str], explainers: Iterable[str], *, costly_images: int | None = COSTLY_IMAGES
) -> list[Case]:
    """Every supported model x explainer, models outer, with the suites' parameters and limits."""
    names = list(explainers)
    out = []
    for model in models:
        mcfg = get_model_cfg(model)
        for name in names:
            if get_explainer_cfg(name).supports(mcfg):
                out.append(Case(model, name, case_params(model, name)).limited(costly_images))
    return out


@dataclass
class GridReport:
    tasks: int = 0
    computed: int = 0  # explanations computed by this run
    cached: int = 0  # explanations found in the store
    predictions_computed: int = 0
    seconds: float = 0.0
    failures: dict[str, str] = field(default_factory=dict)  # task id -> error
    loads: dict[int, dict[str, int]] = field(default_factory=dict)  # worker pid -> model -> loads
    labels: dict[str, str] = field(default_factory=dict)  # model -> label (``_random`` when random)
    peak_memory: dict[str, int] = field(default_factory=dict)  # task id -> peak bytes over its chunks
    oom_retries: int = 0

    def lines(self) -> list[str]:
        rate = self.computed / self.seconds if self.seconds else 0.0
        out = [
            f"{self.tasks} tasks: {self.computed} explanations computed, {self.cached} found in the store, "
            f"{self.predictions_computed} predictions computed, {self.seconds:.1f}s ({rate:.2f}/s)"
        ]
        randoms = sorted(label for label in self.labels.values() if label.endswith("_random"))
        if randoms:
            out.append(f"random weights (cost only): {', '.join(randoms)}")
        if self.oom_retries:
            out.append(f"out of memory: {self.oom_retries} batch halving(s)")
        out += [f"FAILED {tid}: {err.splitlines()[0]}" for tid, err in sorted(self.failures.items())]
        return out


Progress = Callable[[int, int, str], None]  # (done, total, what)


@dataclass(frozen=True, eq=False)
class LogitsWork:
    """What a submitted logits job is for: ``model``'s predictions on ``records``."""

    model: str
    records: list[ImageRecord]

    @property
    def key(self) -> str:
        return f"logits-{self.model}"

    @property
    def main(self) -> bool:
        return True  # a model's explanations wait for its predictions

    def take(self, plan: _Plan, res: JobResult) -> None:
        assert res.logits is not None
        plan.runner.put_logits(self.model, self.records, res.logits)
        plan.report.predictions_computed += len(self.records)
        plan.report.labels[self.model] = res.model_label


@dataclass(frozen=True, eq=False)
class ExplainWork:
    """What a submitted explanation job is for: ``case``'s maps of ``records`` for ``targets``
    (``main``: the top-1 maps its target probe waits for), stored under ``fields``."""

    case: Case
    main: bool
    records: list[ImageRecord]
    targets: np.ndarray
    mode: str
    fields: list[dict]

    @property
    def key(self) -> str:
        return self.case.id

    def take(self, plan: _Plan, res: JobResult) -> None:
        run, rep, case, chunk = plan.runner, plan.report, self.case, res.chunk
        assert chunk is not None
        metas = [
            run.image_meta(case.model, r, t, self.mode, res.model_label, res.weights_kind)
            for r, t in zip(self.records, self.targets)
        ]
        run.put_chunk(case.model, self.fields, metas, chunk)
        plan.inflight.difference_update(content_key("explanation", f) for f in self.fields)
        rep.computed += len(self.records)
        rep.labels[case.model] = res.model_label
        rep.peak_memory[case.id] = max(rep.peak_memory.get(case.id, 0), chunk.peak_memory_bytes)
        rep.oom_retries += chunk.oom_retries
        plan.done += len(self.records)
        if plan.progress is not None:
            plan.progress(plan.done, plan.total, f"{case.explainer} x {res.model_label}")


Work = LogitsWork | ExplainWork


class _Plan:
    """Driver state of one grid: jobs in flight and what each writes."""

    def __init__(self, runner: Runner, engine, report: GridReport, progress: Progress | None) -> None:
        self.runner, self.engine, self.report, self.progress = runner, engine, report, progress
        self.jobs: dict[int, Work] = {}
        self.open: dict[str, int] = {}  # logits-<model> or case id -> main jobs still in flight
        self.order: dict[str, int] = {}  # model -> its place in the grid
        self.metric_images = METRIC_IMAGES
        self.inflight: set[str] = set()  # content keys of explanations submitted and not yet written
        self.total = 0
        self.done = 0
        self._next = 0

    def submit(self, work: Work, job: Job) -> None:
        """Submit ``job`` as it crosses to a worker process: its input C-contiguous (what pickling gives a Ray
        actor, so the local engine computes the same bits) and no explainer object (built from its name)."""
        self._next += 1
        job = replace(
            job, id=self._next, order=self.order.get(job.model, 0), x=np.ascontiguousarray(job.x), instance=None
        )
        self.jobs[job.id] = work
        self.engine.submit(job)
        if work.main:
            self.open[work.key] = self.open.get(work.key, 0) + 1

    # -- predictions -----------------------------------------------------
    def need_logits(self, model: str) -> bool:
        """Submit the logits the store lacks for ``model``, :data:`LOGITS_BATCH` images a job; True when some were."""
        missing = self.runner.missing_logits(model)
        for k in range(0, len(missing), LOGITS_BATCH):
            recs = missing[k : k + LOGITS_BATCH]
            self.submit(LogitsWork(model, recs), self.runner.logits_job(model, recs))
        return bool(missing)

    # -- explanations ----------------------------------------------------
    def explain(self, case: Case, records, targets: np.ndarray, mode: str, *, main: bool) -> None:
        """Submit the chunks of ``records`` x ``targets`` the store lacks for ``case``."""
        run = self.runner
        explainer = case.create()
        fields = run.explanation_fields(case.model, explainer, records, targets)
        keys = [content_key("explanation", f) for f in fields]
        missing = [
            i
            for i, (f, k) in enumerate(zip(fields, keys))
            if k not in self.inflight and not run.store.has("explanation", f)
        ]
        self.inflight.update(keys[i] for i in missing)
        if main:
            self.report.cached += len(records) - len(missing)
        self.total += len(missing)
        chunk = explainer.cfg.batch_size(getattr(self.engine, "device_type", "cpu"))
        for k in range(0, len(missing), chunk):
            idx = missing[k : k + chunk]
            recs = [records[i] for i in idx]
            work = ExplainWork(case, main, recs, targets[idx], mode, [fields[i] for i in idx])
            job = run.explain_job(case.model, explainer, recs, targets[idx])
            self.submit(work, job)

    def start_task(self, case: Case) -> None:
        run = self.runner
        records = run.images_for(case.model).records[: case.limit]
        top1 = run.predictions(case.model).top1[: len(records)]
        self.explain(case, records, top1, "pred", main=True)
        self.reexplain(case, records, top1)
        # the target check always probes images 0 and 1 (the first two maps that are not all zero):
        # their second-class maps are submitted now, further ones once the main maps are in
        self.probe(case, speculative=case.id in self.open)

    def reexplain(self, case: Case, records, top1: np.ndarray) -> None:
        """The maps of other classes that the pair's re-explaining metrics ask for (RandomLogit)."""
        mcfg, ecfg = get_model_cfg(case.model), case.cfg
        n = min(self.metric_images, len(records))
        for cfg in yield_metrics(mcfg, ecfg, has_masks=has_masks(mcfg)):
            if cfg.reexplain_targets is not None and n:
                off = np.asarray(cfg.reexplain_targets(top1[:n], mcfg.num_classes, **cfg.params()))
                self.explain(case, records[:n], off, "custom", main=False)

    def probe(self, case: Case, *, speculative: bool = False) -> None:
        run = self.runner
        records = run.images_for(case.model).records[: case.limit]
        logits = run.predictions(case.model).logits[: len(records)]
        if speculative:
            n = min(2, len(records))
            second = np.argsort(-logits[:n], axis=1)[:, 1]
        else:
            maps = run.explain(case.model, case.create(), limit=case.limit).attributions  # from the store
            _, second = target_probe(maps, logits)
        self.explain(case, records[: len(second)], second, "custom", main=False)

    # -- results ---------------------------------------------------------
    def take(self, res: JobResult) -> list[Work]:
        """Write one result; returns the work it completed (a model's logits, a case's main maps)."""
        work = self.jobs.pop(res.job_id)
        if res.pid:
            self.report.loads[res.pid] = res.loads
        if res.error is not None:
            self.report.failures.setdefault(work.key, res.error)
        else:
            work.take(self, res)
        if not work.main:
            return []
        self.open[work.key] -= 1
        if self.open[work.key]:
            return []
        del self.open[work.key]
        return [work]


def run_grid(
    runner: Runner,
    tasks: list[Case],
    engine,
    *,
    progress: Progress | None = None,
    metric_images: int = METRIC_IMAGES,
) -> GridReport:
    """Compute what the store lacks for ``tasks`` on ``engine``; the driver (this process) writes the store.

    Models are taken in order; a model's predictions are computed before its
    explanations are planned (their keys hold the predicted class), and the
    next model's predictions are asked for only once the current model's
    chunks are queued, so workers take one model's chunks after another and
    load each model about once.
    """
    start = time.perf_counter()
    report = GridReport(tasks=len(tasks))
    plan = _Plan(runner, engine, report, progress)
    models = _ModelQueue(runner, plan, report, tasks)
    plan.order = {m: i for i, m in enumerate(models.by_model)}
    plan.metric_images = metric_images
    models.advance()
    while engine.pending:
        for work in plan.take(engine.next()):
            if isinstance(work, LogitsWork):
                models.predicted(work)
            elif work.key not in report.failures:
                plan.probe(work.case)
        models.advance()
    # tasks whose main maps were all cached already had their probes planned from the store
    report.seconds = time.perf_counter() - start
    return report


class _ModelQueue:
    """The grid's models in order; at most one waits for its predictions before its chunks are planned."""

    def __init__(self, runner: Runner, plan: _Plan, report: GridReport, tasks: list[Case]) -> None:
        self.runner, self.plan, self.report = runner, plan, report
        self.by_model: dict[str, list[Case]] = {}
        for t in tasks:
            self.by_model.setdefault(t.model, []).append(t)
        self.queue = list(self.by_model)
        self.waiting: str | None = None

    def advance(self) -> None:
        """Plan the next models' chunks, up to one whose predictions must be computed first."""
        while self.waiting is None and self.queue:
            model = self.queue.pop(0)
            try:
                self.runner.weights_for(model)
                if self.plan.need_logits(model):
                    self.waiting = model
                    return
                for t in self.by_model[model]:
                    self.plan.start_task(t)
            except Exception as exc:  # no weights, unreadable images, ...: name the model, go on
                for t in self.by_model[model]:
                    self.report.failures[t.id] = f"{type(exc).__name__}: {exc}"

    def predicted(self, work: LogitsWork) -> None:
        """A model's predictions came back: plan its chunks (or fail its tasks), then the next models."""
        self.waiting = None
        err = self.report.failures.get(work.key)
        for t in self.by_model[work.model]:
            if err is None:
                self.plan.start_task(t)
            else:
                self.report.failures[t.id] = f"predictions failed: {err}"
        self.advance()
