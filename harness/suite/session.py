"""Run state of one harness session (the plugin keeps one in ``config.stash``).

It owns the :class:`~harness.compute.runner.Runner` (created on first use, so unit
tests that never touch a case pay nothing), memoises case results and
their failures, and gathers what the report needs: case records, top-1
rows, models without weights, unreadable images and explanation progress.
Every pytest option lands in :class:`HarnessOptions`, which the report
records as the run's settings.
"""

from __future__ import annotations

import ast
import os
import time
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import pytest

from ..cases import Case, image_limit
from ..cases.defaults import COSTLY_IMAGES, METRIC_IMAGES, ZOO_IMAGES
from ..cases.image_sets import run_image_sets
from ..compute.runner import CaseResult, Runner
from ..compute.store import Store
from ..core.provenance import new_run_id
from ..models import WeightsOptions, WeightsUnavailable, get_model_cfg, resolve_weights
from ..models.weights import short_remedy
from ..report.consensus import ConsensusOptions
from ..report.index import consensus_lines
from ..report.leaderboard import leaderboard_lines
from ..report.records import CaseRecord, Top1Row
from ..report.summary import TOP1_HEADERS, build_report, memory_lines, top1_rows
from ..report.table import render_table
from .known import KNOWN_FAILURES

XAI_REPLAY_HINT = "XAI_HARNESS_REPLAY=0 runs every case again"
LEADERBOARD_TOP = 5  # ranks of the aggregate leaderboard in the default terminal summary (-v: all)


@dataclass(frozen=True)
class HarnessOptions:
    """Every ``--harness-*`` option of a run (``pytest --help``, group *xai-harness*).

    ``costly_images``: moderate and expensive explainers explain only the
    first N images of each set (None: all).  ``metric_params`` holds the
    parsed ``--harness-metric-param METRIC.KEY=VALUE`` overrides.
    ``show_skipped`` keeps the cases of models without weights as skips
    instead of deselecting them at collection.
    """

    store: Path
    reports: Path
    images: str = "builtin"
    max_images: int | None = None
    zoo_images: int = ZOO_IMAGES
    costly_images: int | None = COSTLY_IMAGES
    weights: tuple[str, ...] = ()
    allow_download: bool = False
    device: str = "auto"
    write_report: bool = True
    baselines: Path | None = None
    regen: bool = False
    regen_accept: bool = False
    same_prediction: bool = False
    metric_images: int = METRIC_IMAGES
    metric_params: tuple[tuple[str, tuple[tuple[str, Any], ...]], ...] = ()
    metric_explainers: str = "regression"
    metric_optin: tuple[str, ...] = ()
    show_skipped: bool = False

    def overrides_for(self, metric: str) -> dict[str, Any]:
        """The ``--harness-metric-param`` overrides of one metric."""
        return dict(dict(self.metric_params).get(metric, ()))

    def settings(self) -> dict[str, str]:
        """Every option as text, for the report's settings table."""
        return {f.name: str(getattr(self, f.name)) for f in fields(self)}


def parse_metric_params(items) -> tuple[tuple[str, tuple[tuple[str, Any], ...]], ...]:
    """``["pixel_flipping.steps=24", ...]`` -> ``(("pixel_flipping", (("steps", 24),)),)`` (Python literals)."""
    out: dict[str, dict[str, Any]] = {}
    for item in items:
        key, _, value = item.partition("=")
        metric, _, param = key.partition(".")
        if not param or not value:
            raise ValueError(f"--harness-metric-param wants METRIC.KEY=VALUE, got {item!r}")
        try:
            parsed = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            parsed = value
        out.setdefault(metric, {})[param] = parsed
    return tuple((m, tuple(sorted(p.items()))) for m, p in sorted(out.items()))


@dataclass
class ProgressEvent:
    """Explanations one case computed (not fetched): ``what`` is ``<explainer> x <model>``."""

    what: str
    images: int
    seconds: float


@dataclass
class HarnessSession:
    options: HarnessOptions
    rootdir: Path
    cases: list[CaseRecord] = field(default_factory=list)
    top1: dict[str, Top1Row] = field(default_factory=dict)
    skipped_models: dict[str, str] = field(default_factory=dict)
    deselected: dict[str, int] = field(default_factory=dict)  # model -> cases deselected for want of weights
    bad_images: dict[str, str] = field(default_factory=dict)
    progress: list[ProgressEvent] = field(default_factory=list)  # since the plugin last took them
    computed_images: int = 0  # explanations computed (not fetched) over the run's reports so far
    compute_seconds: float = 0.0
    collected: list[str] = field(default_factory=list)  # node ids in collection order (the report's case order)
    worker_stats: list[dict[str, Any]] = field(default_factory=list)  # pytest-xdist: each worker's store counters
    _case_nodeids: list[str] = field(default_factory=list)
    _runner: Runner | None = None
    _results: dict[Case, CaseResult | BaseException] = field(default_factory=dict)
    _weights: dict[str, str | None] = field(default_factory=dict)  # model -> reason it has none (None: has)
    _started: float = field(default_factory=time.perf_counter)

    @property
    def runner(self) -> Runner:
        if self._runner is None:
            images = run_image_sets(
                self.options.images,
                max_images=self.options.max_images,
                zoo_images=self.options.zoo_images,
                datasets=str(self.options.store.parent / "datasets"),
            )
            self._runner = Runner(
                Store(self.options.store),
                images,
                weights=self.weights_options,
                device=self.options.device,
                progress=self._progress,
            )
            self.bad_images.update(self._runner.bad_images)
        return self._runner

    @property
    def weights_options(self) -> WeightsOptions:
        return WeightsOptions.from_env(self.options.weights, self.options.allow_download or None)

    def _progress(self, what: str, done: int, total: int, seconds: float) -> None:
        """The runner's callback: ``done`` of ``total`` images, ``seconds`` since its call started."""
        last = self.progress[-1] if self.progress else None
        if last is not None and last.what == what and done > last.images and seconds >= last.seconds:
            last.images, last.seconds = done, seconds
        else:
            self.progress.append(ProgressEvent(what, done, seconds))

    def take_progress(self) -> list[ProgressEvent]:
        """The explanation work done since the last call (the plugin attaches it to the case's report)."""
        out, self.progress = self.progress, []
        return out

    def count_progress(self, events: list[ProgressEvent]) -> None:
        """Add a case's computed explanations to the run's totals (on the controller under pytest-xdist)."""
        self.computed_images += sum(e.images for e in events)
        self.compute_seconds += sum(e.seconds for e in events)

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self._started

    def missing_weights(self, model: str) -> str | None:
        """Why ``model`` has no weights here (one line with the remedy), or None when it has some.

        Finds and hashes the file without loading it, once per model, so
        collection can deselect the cases of models without weights.
        """
        if model not in self._weights:
            try:
                resolve_weights(get_model_cfg(model), self.weights_options)
                self._weights[model] = None
            except WeightsUnavailable as exc:
                self._weights[model] = str(exc)
        return self._weights[model]

    def require_weights(self, model: str) -> None:
        """Raise WeightsUnavailable if ``model`` has no weights (the suites turn it into a skip)."""
        self.runner.weights_for(model)

    def result(self, case: Case) -> CaseResult:
        """The case's explanations, computed once per session (failures too)."""
        self.require_weights(case.model)
        if case not in self._results:
            try:
                explainer = case.create()
                self._results[case] = self.runner.explain(case.model, explainer, limit=self.image_limit(explainer))
            except Exception as exc:  # remembered, so sibling checks fail fast with the same error
                self._results[case] = exc
        res = self._results[case]
        if isinstance(res, BaseException):
            raise res
        return res

    def image_limit(self, explainer) -> int | None:
        """How many images a case of ``explainer`` explains: all, or ``costly_images``
        for moderate and expensive explainers (LIME, KernelSHAP, IG, Score-CAM, ...)."""
        return image_limit(explainer.cfg, self.options.costly_images)

    def top1_for(self, model: str) -> Top1Row:
        """Top-1 of ``model`` on the labelled images (overall and on foolbox's 20)."""
        self.require_weights(model)
        preds = self.runner.predictions(model)
        correct, labelled = preds.correct()
        fool = [(r, int(p)) for r, p in zip(preds.records, preds.top1) if r.id.startswith("foolbox/")]
        row = Top1Row(
            family=get_model_cfg(model).family,
            weights=self.runner.weights_for(model).kind,
            correct=correct,
            labelled=labelled,
            top1=correct / labelled if labelled else None,
            foolbox_correct=sum(r.accepts(p) for r, p in fool),
            foolbox_total=len(fool),
            misses=[
                f"{r.id}: {p}"
                for r, p in zip(preds.records, preds.top1)
                if r.label is not None and not r.accepts(int(p))
            ],
        )
        self.top1[model] = row
        return row

    def summary_lines(self, *, write_report: bool = True, verbose: int = 0) -> list[str]:
        """The terminal summary; writes ``reports/<run-id>/`` first when the run has results and
        ``write_report`` (pytest-xdist workers pass False: their controller writes the one report).

        By default: the top-1 table, the store line, one line for the models without weights, one
        line per consensus group, the leaderboard's first ranks and where the report is; ``verbose``
        (``pytest -v``) adds the per-model weights lines, the consensus pair tables and every rank."""
        if not (self.cases or self.top1 or self.skipped_models):
            return []
        lines = []
        if self.top1:
            lines.append(render_table(TOP1_HEADERS, top1_rows(self.top1), title="Top-1 on labelled images"))
        stats = self.store_stats()
        if stats:
            hits, misses, writes = stats["hits"], stats["misses"], stats["writes"]
            lines.append(f"store: {hits} hits, {misses} misses, {writes} writes ({self.options.store})")
            kinds = stats.get("by_kind", {})
            if kinds:
                lines.append(
                    "  by kind: "
                    + "; ".join(f"{k} {c['hits']}/{c['misses']}/{c['writes']}" for k, c in sorted(kinds.items()))
                    + " (hits/misses/writes)"
                )
        if self.cases:
            replayed = sum(c.replayed for c in self.cases)
            lines.append(
                f"cases: {replayed} replayed from the store, {len(self.cases) - replayed} run ({XAI_REPLAY_HINT})"
            )
            lines += memory_lines(self.cases)
        lines += self.weights_lines(verbose=bool(verbose))
        lines += [f"unreadable image left out: {msg}" for msg in self.bad_images.values()]
        if write_report and self.options.write_report and (self.cases or self.top1):
            notes: list[str] = []
            out, consensus = self.write_report(notes=notes)
            lines += consensus_lines(consensus, verbose=bool(verbose))
            lines += leaderboard_lines(out, top=None if verbose else LEADERBOARD_TOP)
            lines += notes
            lines.append(f"report: {_relative(out)}/index.md")
        return lines

    def weights_lines(self, *, verbose: bool = True) -> list[str]:
        """One block for the models without weights: a line per model with its remedy (one line in all
        when not ``verbose``)."""
        if not self.skipped_models:
            return []
        n = sum(self.deselected.values())
        how = (
            f"their {n} cases were deselected (--harness-show-skipped keeps them as skips)"
            if n
            else "their cases were skipped"
        )
        if not verbose:
            return [
                f"{len(self.skipped_models)} model(s) have no weights here; {how}; "
                "-v or `python -m harness list models` names them and where weights are looked for"
            ]
        out = [f"{len(self.skipped_models)} model(s) have no weights here; {how}:"]
        width = max(len(m) for m in self.skipped_models)
        for model in sorted(self.skipped_models):
            cfg = get_model_cfg(model)
            cases = f"{self.deselected[model]} cases" if model in self.deselected else "skipped"
            out.append(f"  {model:<{width}}  {cfg.family:<11}  {cases:>9}  {short_remedy(cfg)}")
        out.append(
            "  (`python -m harness list models` shows where weights are looked for; "
            "--harness-allow-download fetches them from the hub)"
        )
        return out

    def write_report(self, notes: list[str] | None = None):
        """Write ``reports/<run-id>/`` from the store and this run's records; returns (folder, consensus).

        ``notes`` receives one line per report part that had nothing to show or failed."""
        cases = {(c.model, c.explainer) for c in self.cases}
        ordered = self.ordered_cases()
        return build_report(
            self.options.reports,
            new_run_id(),
            root=self.rootdir,
            store=Store(self.options.store),
            settings=self.options.settings(),
            cases_filter=cases,
            consensus_options=ConsensusOptions(same_prediction=self.options.same_prediction),
            session=dict(
                cases=ordered,
                top1=dict(sorted(self.top1.items())),
                skipped_models=self.skipped_models,
                bad_images=self.bad_images,
                store_stats=self.store_stats(),
            ),
            notes=notes,
            known=KNOWN_FAILURES,
        )

    def store_stats(self) -> dict[str, Any]:
        """Store hits, misses and writes, in all and by kind (summed over pytest-xdist workers)."""
        parts = list(self.worker_stats)
        if self._runner is not None:
            s = self._runner.store
            parts.append({"hits": s.hits, "misses": s.misses, "writes": s.writes, "by_kind": s.by_kind})
        if not parts:
            return {}
        out: dict[str, Any] = {"hits": 0, "misses": 0, "writes": 0, "by_kind": {}}
        for p in parts:
            for k in ("hits", "misses", "writes"):
                out[k] += p.get(k, 0)
            for kind, counts in p.get("by_kind", {}).items():
                mine = out["by_kind"].setdefault(kind, {"hits": 0, "misses": 0, "writes": 0})
                for k, v in counts.items():
                    mine[k] = mine.get(k, 0) + v
        return out

    # -- pytest-xdist --------------------------------------------------------
    def add_case(self, record: CaseRecord, nodeid: str) -> None:
        self.cases.append(record)
        self._case_nodeids.append(nodeid)

    def ordered_cases(self) -> list[CaseRecord]:
        """Case records in collection order, however the workers returned them (serial runs: as run)."""
        order = {n.rsplit("@", 1)[0]: i for i, n in enumerate(self.collected)}
        if not order:
            return list(self.cases)
        keyed = [(order.get(n.rsplit("@", 1)[0], len(order)), i) for i, n in enumerate(self._case_nodeids)]
        keyed += [(len(order), i) for i in range(len(self._case_nodeids), len(self.cases))]
        return [self.cases[i] for _, i in sorted(keyed)]

    def worker_output(self) -> dict[str, Any]:
        """What a pytest-xdist worker sends its controller (plain JSON-able values)."""
        return {
            "store": self.store_stats(),
            "collected": list(self.collected),
            "skipped_models": dict(self.skipped_models),
            "deselected": dict(self.deselected),
            "bad_images": dict(self.bad_images),
        }

    def merge_worker(self, out: dict[str, Any]) -> None:
        """Merge one worker's output; every worker collects the same cases, so deselections are taken once."""
        if out.get("store"):
            self.worker_stats.append(out["store"])
        if not self.collected:
            self.collected = list(out.get("collected", []))
            self.deselected.update(out.get("deselected", {}))
        self.skipped_models.update(out.get("skipped_models", {}))
        self.bad_images.update(out.get("bad_images", {}))


def _relative(path: Path) -> str:
    try:
        return os.path.relpath(path, Path.cwd())
    except ValueError:  # another drive
        return str(path)


SESSION_KEY = pytest.StashKey[HarnessSession]()


def session_of(config: pytest.Config) -> HarnessSession:
    """The run's :class:`HarnessSession` (for ``pytest_generate_tests`` hooks and fixtures)."""
    return config.stash[SESSION_KEY]
