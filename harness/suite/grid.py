"""Precompute a grid of explanations into the store: what ``pytest suites/`` would compute, ahead.

``python -m harness run`` (:mod:`harness.cli.run`) plans :class:`GridTask`
rows (model x explainer, with the suites' parameters, seeds and image
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
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..checks.basic import target_probe
from ..core.seeds import seed_for
from ..explainers import ExplainerCfg, create_explainer, get_explainer_cfg
from ..models import get_model_cfg

COSTLY_IMAGES = 8  # moderate and expensive explainers explain the first N images (the suites' default)
METRIC_IMAGES = 4  # images per metric case (the suites' --harness-metric-images default)
ZOO_IMAGES = 8  # shapes test images shown to the zoo models (the suites' default)


def case_params(model: str, explainer: str) -> tuple[tuple[str, Any], ...]:
    """A case's parameters over the explainer's defaults: a seed from ``<explainer>-<model>`` if stochastic."""
    return (("seed", seed_for(f"{explainer}-{model}")),) if get_explainer_cfg(explainer).stochastic else ()


def image_limit(cfg: ExplainerCfg, costly_images: int | None) -> int | None:
    """How many images a case explains: all for cheap explainers, else the first ``costly_images`` (None/0: all)."""
    if cfg.cost == "cheap" or not costly_images:
        return None
    return costly_images


@dataclass(frozen=True)
class GridTask:
    """One model x explainer of a grid."""

    model: str
    explainer: str
    params: tuple[tuple[str, Any], ...] = ()
    limit: int | None = None

    @property
    def id(self) -> str:
        return f"{self.explainer}-{self.model}"

    def create(self):
        return create_explainer(self.explainer, **dict(self.params))


def plan_grid(
    models: Iterable[str], explainers: Iterable[str], *, costly_images: int | None = COSTLY_IMAGES
) -> list[GridTask]:
    """Every supported model x explainer, models outer, with the suites' parameters and limits."""
    names = list(explainers)
    out = []
    for model in models:
        mcfg = get_model_cfg(model)
        for name in names:
            ecfg = get_explainer_cfg(name)
            if ecfg.supports(mcfg):
                out.append(GridTask(model, name, case_params(model, name), image_limit(ecfg, costly_images)))
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


class _Plan:
    """Driver state of one grid: jobs in flight and what each writes."""

    def __init__(self, runner, engine, report: GridReport, progress: Progress | None) -> None:
        self.runner, self.engine, self.report, self.progress = runner, engine, report, progress
        self.jobs: dict[int, dict[str, Any]] = {}
        self.open: dict[str, int] = {}  # task id -> main-map jobs still in flight
        self.order: dict[str, int] = {}  # model -> its place in the grid
        self.metric_images = METRIC_IMAGES
        self.inflight: set[str] = set()  # content keys of explanations submitted and not yet written
        self.total = 0
        self.done = 0
        self._next = 0

    def submit(self, ctx: dict[str, Any], job_kw: dict[str, Any]) -> None:
        from ..compute.engines import Job

        self._next += 1
        job = Job(id=self._next, order=self.order.get(job_kw["model"], 0), **job_kw)
        self.jobs[job.id] = ctx
        self.engine.submit(job)

    # -- predictions -----------------------------------------------------
    def need_logits(self, model: str) -> bool:
        """Submit the logits the store lacks for ``model``; True when some were submitted."""
        run = self.runner
        records = run.images_for(model).records
        base = run._model_fields(model)
        missing = [
            i for i, r in enumerate(records) if not run.store.has("logits", {**base, "image": run._digests[r.id]})
        ]
        for k in range(0, len(missing), 16):
            idx = missing[k : k + 16]
            recs = [records[i] for i in idx]
            self.submit(
                {"kind": "logits", "model": model, "records": recs, "base": base},
                dict(kind="logits", model=model, weights_sha=base["weights"], x=run.input_array(model, recs)),
            )
            self.open[f"logits-{model}"] = self.open.get(f"logits-{model}", 0) + 1
        return bool(missing)

    # -- explanations ----------------------------------------------------
    def explain(self, task: GridTask, records, targets: np.ndarray, mode: str, *, main: bool) -> None:
        """Submit the chunks of ``records`` x ``targets`` the store lacks for ``task``."""
        run = self.runner
        explainer = task.create()
        fields = run.explanation_fields(task.model, explainer, records, targets)
        from ..compute.store import content_key

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
            ctx = dict(
                kind="explain",
                task=task,
                main=main,
                records=recs,
                targets=targets[idx],
                mode=mode,
                fields=[fields[i] for i in idx],
            )
            self.submit(
                ctx,
                dict(
                    kind="explain",
                    model=task.model,
                    weights_sha=fields[0]["weights"],
                    x=run.input_array(task.model, recs),
                    explainer=task.explainer,
                    params=task.params,
                    targets=np.asarray(targets[idx]),
                ),
            )
            if main:
                self.open[task.id] = self.open.get(task.id, 0) + 1

    def start_task(self, task: GridTask) -> None:
        run = self.runner
        records = run.images_for(task.model).records[: task.limit]
        top1 = run.predictions(task.model).top1[: len(records)]
        self.explain(task, records, top1, "pred", main=True)
        self.reexplain(task, records, top1)
        # the target check always probes images 0 and 1 (the first two maps that are not all zero):
        # their second-class maps are submitted now, further ones once the main maps are in
        self.probe(task, speculative=task.id in self.open)

    def reexplain(self, task: GridTask, records, top1: np.ndarray) -> None:
        """The maps of other classes that the pair's re-explaining metrics ask for (RandomLogit)."""
        from ..checks import MASKED_LABEL_SPACES
        from ..metrics.registry import yield_metrics

        mcfg, ecfg = get_model_cfg(task.model), get_explainer_cfg(task.explainer)
        n = min(self.metric_images, len(records))
        for cfg in yield_metrics(mcfg, ecfg, has_masks=mcfg.label_space in MASKED_LABEL_SPACES):
            if cfg.reexplain_targets is not None and n:
                off = np.asarray(cfg.reexplain_targets(top1[:n], mcfg.num_classes, **cfg.params()))
                self.explain(task, records[:n], off, "custom", main=False)

    def probe(self, task: GridTask, *, speculative: bool = False) -> None:
        run = self.runner
        records = run.images_for(task.model).records[: task.limit]
        logits = run.predictions(task.model).logits[: len(records)]
        if speculative:
            n = min(2, len(records))
            second = np.argsort(-logits[:n], axis=1)[:, 1]
        else:
            maps = run.explain(task.model, task.create(), limit=task.limit).attributions  # from the store
            _, second = target_probe(maps, logits)
        self.explain(task, records[: len(second)], second, "custom", main=False)

    # -- results ---------------------------------------------------------
    def take(self, res) -> list[tuple[str, str]]:
        """Write one result; returns the (kind, name) that it completed (a model's logits, a task's maps)."""
        ctx = self.jobs.pop(res.job_id)
        run, rep = self.runner, self.report
        done: list[tuple[str, str]] = []
        if res.pid:
            rep.loads[res.pid] = res.loads
        key = f"logits-{ctx['model']}" if ctx["kind"] == "logits" else ctx["task"].id
        if res.error is not None:
            rep.failures.setdefault(key, res.error)
        elif ctx["kind"] == "logits":
            for rec, row in zip(ctx["records"], res.logits):
                run.store.put(
                    "logits",
                    {**ctx["base"], "image": run._digests[rec.id]},
                    {"logits": row},
                    {"image_id": rec.id, "label": rec.label},
                )
            rep.predictions_computed += len(ctx["records"])
            rep.labels[ctx["model"]] = res.model_label
        else:
            task = ctx["task"]
            metas = [
                run.image_meta(task.model, r, t, ctx["mode"], res.model_label, res.weights_kind)
                for r, t in zip(ctx["records"], ctx["targets"])
            ]
            run.put_chunk(task.model, ctx["fields"], metas, res.chunk)
            from ..compute.store import content_key

            self.inflight.difference_update(content_key("explanation", f) for f in ctx["fields"])
            rep.computed += len(ctx["records"])
            rep.labels[task.model] = res.model_label
            rep.peak_memory[task.id] = max(rep.peak_memory.get(task.id, 0), res.chunk.peak_memory_bytes)
            rep.oom_retries += res.chunk.oom_retries
            self.done += len(ctx["records"])
            if self.progress is not None:
                self.progress(self.done, self.total, f"{task.explainer} x {res.model_label}")
        if ctx["kind"] == "logits" or ctx.get("main"):
            self.open[key] -= 1
            if self.open[key] == 0:
                del self.open[key]
                done.append((ctx["kind"], ctx["model"] if ctx["kind"] == "logits" else key))
        return done


def run_grid(
    runner, tasks: list[GridTask], engine, *, progress: Progress | None = None, metric_images: int = METRIC_IMAGES
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
    by_model: dict[str, list[GridTask]] = {}
    for t in tasks:
        by_model.setdefault(t.model, []).append(t)
    plan.order = {m: i for i, m in enumerate(by_model)}
    plan.metric_images = metric_images
    queue = list(by_model)
    waiting: str | None = None

    def advance() -> None:
        nonlocal waiting
        while waiting is None and queue:
            model = queue.pop(0)
            try:
                runner.weights_for(model)
                if plan.need_logits(model):
                    waiting = model
                    return
                for t in by_model[model]:
                    plan.start_task(t)
            except Exception as exc:  # no weights, unreadable images, ...: name the model, go on
                for t in by_model[model]:
                    report.failures[t.id] = f"{type(exc).__name__}: {exc}"

    advance()
    while engine.pending:
        for kind, name in plan.take(engine.next()):
            if kind == "logits":
                waiting = None
                err = report.failures.get(f"logits-{name}")
                for t in by_model[name]:
                    if err is None:
                        plan.start_task(t)
                    else:
                        report.failures[t.id] = f"predictions failed: {err}"
                advance()
            elif name not in report.failures:
                task = next(t for t in tasks if t.id == name)
                plan.probe(task)
        if waiting is None:
            advance()
    # tasks whose main maps were all cached already had their probes planned from the store
    report.seconds = time.perf_counter() - start
    return report
