"""pytest wiring only: options, the session fixture, hooks.

Registered through the ``pytest11`` entry point ``harness``.  Run state is
one :class:`~harness.suite.session.HarnessSession` in ``config.stash``;
every option lands in its :class:`~harness.suite.session.HarnessOptions`.
Results travel from test to report as ``user_properties`` (a
:class:`~harness.report.records.CaseRecord` as a dict), so they survive
pytest-xdist: the controller gathers them and the session writes the
report.

* Collection: cases of models without weights are deselected and listed
  once in the summary (``--harness-show-skipped`` keeps them as skips).
* Progress: with ``-v`` each case's own line says what it computed
  (``PASSED (8 computed, 2.1s)``); otherwise a rate line now and then,
  written only between two lines of pytest's dots.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest
import torch

from ..cases.defaults import METRIC_IMAGES, add_options
from ..cases.project import load_project, project_baselines
from ..compute.store import Store
from ..core.memory import peak_rss_bytes
from ..models import is_registered
from ..report.records import CaseRecord, Top1Row
from ..suite.cases import PROP_CASE, PROP_PROGRESS, PROP_RSS, PROP_SKIP, PROP_TOP1
from ..suite.session import SESSION_KEY, HarnessOptions, HarnessSession, ProgressEvent, parse_metric_params
from . import hookspec

# non-verbose runs: at most one rate line this often (XAI_HARNESS_PROGRESS_EVERY seconds)
RATE_EVERY_S = float(os.environ.get("XAI_HARNESS_PROGRESS_EVERY", "30"))


def pytest_addoption(parser: pytest.Parser) -> None:
    """Every ``--harness-*`` option, as declared once in :mod:`harness.cases.defaults`."""
    add_options(parser.getgroup("xai-harness").addoption, "--harness-")


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    pluginmanager.add_hookspecs(hookspec)


def pytest_configure(config: pytest.Config) -> None:
    for name, doc in (
        ("cnn", "convolutional models"),
        ("transformer", "vision transformers"),
        ("hybrid", "hybrid CNN/transformer models"),
        ("slow", "expensive explainers"),
        ("gpu", "needs CUDA"),
        ("harness_case(model, explainer, check, needs_weights)", "a harness case; set by the case generators"),
        ("xdist_group(name)", "pytest-xdist --dist loadgroup: the cases of one model run on one worker"),
    ):
        config.addinivalue_line("markers", f"{name}: {doc}")
    xdist_defaults(config)

    try:
        load_project(config.rootpath, hook=config.hook)
    except (ValueError, FileNotFoundError, ImportError) as exc:
        raise pytest.UsageError(f"xai-harness: {exc}") from None
    config.stash[SESSION_KEY] = HarnessSession(options_from(config), Path(config.rootpath))
    config.pluginmanager.register(HarnessReporter(config), "harness-reporter")


def xdist_defaults(config: pytest.Config) -> None:
    """Under pytest-xdist: group cases by model unless ``--dist`` is given, so each worker loads a model once;
    on a worker, torch threads are the CPUs shared out (not each worker all of them) and, with several GPUs,
    ``--harness-device auto`` takes the worker's own one."""
    if getattr(config.option, "numprocesses", None) and not any(
        a == "--dist" or a.startswith("--dist=") or a == "-d" for a in config.invocation_params.args
    ):
        if getattr(config.option, "dist", "no") == "load":
            config.option.dist = "loadgroup"
    worker = getattr(config, "workerinput", None)
    if worker is None:
        return

    count = int(worker.get("workercount", 1))
    torch.set_num_threads(max(1, min(torch.get_num_threads(), (os.cpu_count() or 1) // count)))
    if config.option.harness_device == "auto" and torch.cuda.is_available() and torch.cuda.device_count() > 1:
        index = int(str(worker.get("workerid", "gw0")).lstrip("gw") or 0)
        config.option.harness_device = f"cuda:{index % torch.cuda.device_count()}"


def options_from(config: pytest.Config) -> HarnessOptions:
    """Every ``--harness-*`` option, parsed once (a bad value is a usage error naming the option)."""
    root = Path(config.rootpath)
    opt = config.option
    try:
        metric_params = parse_metric_params(opt.harness_metric_param or [])
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None
    return HarnessOptions(
        store=Path(opt.harness_store) if opt.harness_store else Store.default_root(root),
        reports=Path(opt.harness_reports) if opt.harness_reports else root / "reports",
        images=opt.harness_images,
        max_images=opt.harness_max_images,
        zoo_images=opt.harness_zoo_images,
        costly_images=opt.harness_costly_images or None,
        weights=tuple(opt.harness_weights),
        allow_download=opt.harness_allow_download,
        device=opt.harness_device,
        write_report=not opt.harness_no_report,
        baselines=Path(opt.harness_baselines)
        if opt.harness_baselines
        else (project_baselines(root) or root / "suites" / "baselines"),
        regen=opt.harness_regen,
        regen_accept=opt.harness_regen_accept,
        same_prediction=opt.harness_same_prediction,
        metric_images=opt.harness_metric_images or METRIC_IMAGES,
        metric_params=metric_params,
        metric_explainers=opt.harness_metric_explainers,
        metric_optin=tuple(opt.harness_metric_optin or ()),
        show_skipped=opt.harness_show_skipped,
    )


@pytest.fixture(scope="session")
def harness(pytestconfig: pytest.Config) -> HarnessSession:
    """The session's :class:`~harness.suite.session.HarnessSession`."""
    return pytestconfig.stash[SESSION_KEY]


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect the cases of models without weights (listed once in the summary), unless asked to keep them."""
    hs = config.stash[SESSION_KEY]
    if hs.options.show_skipped:
        hs.collected = [item.nodeid for item in items]
        return
    keep, drop = [], []
    for item in items:
        mark = item.get_closest_marker("harness_case")
        model = str(mark.kwargs.get("model", "")) if mark is not None and mark.kwargs.get("needs_weights", True) else ""
        reason = hs.missing_weights(model) if model and _registered(model) else None
        if reason is None:
            keep.append(item)
        else:
            drop.append(item)
            hs.skipped_models[model] = reason
            hs.deselected[model] = hs.deselected.get(model, 0) + 1
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
    hs.collected = [item.nodeid for item in items]


def _registered(model: str) -> bool:
    return is_registered(model)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """Case records travel as dicts (pytest-xdist sends reports between processes), and the call's
    report carries the explanations the case computed, for the progress line."""
    report = yield
    props = [(k, _plain(v)) for k, v in report.user_properties]
    if call.when == "call":
        events = item.config.stash[SESSION_KEY].take_progress()
        props.append((PROP_PROGRESS, [(e.what, e.images, round(e.seconds, 3)) for e in events]))
        props.append((PROP_RSS, round(peak_rss_bytes() / 2**20, 1)))
    report.user_properties = props
    return report


def _plain(value: Any) -> Any:
    """A user property as pytest-xdist can send it: records as dicts (also inside a tuple)."""
    if isinstance(value, (CaseRecord, Top1Row)):
        return value.to_dict()
    if isinstance(value, tuple):
        return tuple(_plain(v) for v in value)
    return value


@pytest.hookimpl(wrapper=True)
def pytest_report_teststatus(report: pytest.TestReport, config: pytest.Config):
    """With ``-v``, a case's one line says what it computed: ``PASSED (8 computed, 2.1s)``."""
    result = yield
    if config.option.verbose > 0 and report.when == "call" and result and result[2]:
        props: dict[str, Any] = dict(report.user_properties)
        events: list[tuple[str, int, float]] = props.get(PROP_PROGRESS) or []
        if events:
            n, s = sum(e[1] for e in events), sum(e[2] for e in events)
            word, markup = result[2] if isinstance(result[2], tuple) else (result[2], {})
            result = (result[0], result[1], (f"{word} ({n} computed, {s:.1f}s)", markup))
    return result


class HarnessReporter:
    """Collects harness results from test reports, prints progress, and has the session write the report."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self._last_rate = time.perf_counter()

    @property
    def session(self) -> HarnessSession:
        return self.config.stash[SESSION_KEY]

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when != "call" and not (report.when == "setup" and (report.skipped or report.failed)):
            return
        hs = self.session
        props: dict[str, Any] = dict(report.user_properties)
        if PROP_SKIP in props:
            model, reason = props[PROP_SKIP]
            hs.skipped_models[model] = reason
        if PROP_TOP1 in props:
            model, row = props[PROP_TOP1]
            hs.top1[model] = Top1Row.from_dict(row)
        if PROP_PROGRESS in props:
            hs.count_progress([ProgressEvent(w, n, s) for w, n, s in props[PROP_PROGRESS]])
        if PROP_CASE in props:
            record = CaseRecord.from_dict(props[PROP_CASE])
            record.outcome = _outcome(report)
            record.seconds = round(report.duration, 3)
            record.message = _message(report)
            record.peak_rss_mb = props.get(PROP_RSS)
            hs.add_case(record, report.nodeid)

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """A pytest-xdist worker sends its store counters and what collection saw to the controller."""
        if hasattr(self.config, "workeroutput"):
            self.config.workeroutput["xai_harness"] = self.session.worker_output()

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_make_scheduler(self, config: pytest.Config, log):
        """``--dist loadgroup`` (the default under ``-n``): one worker per model (harness.plugin.xdist_groups)."""
        if config.getvalue("dist") != "loadgroup":
            return None
        from .xdist_groups import ModelScheduling

        return ModelScheduling(config, log)

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node, error) -> None:
        """The controller merges each worker's counters (as pytest-cov merges coverage)."""
        out = getattr(node, "workeroutput", {}).get("xai_harness")
        if out:
            self.session.merge_worker(out)

    def pytest_runtest_logfinish(self, nodeid: str, location) -> None:
        tr = self.config.pluginmanager.get_plugin("terminalreporter")
        if tr is None or self.config.option.verbose != 0:  # -v: the case's own line says it (teststatus)
            return
        now = time.perf_counter()
        # only between two lines of dots: pytest ends a full line with its [ nn%] and a newline
        if now - self._last_rate >= RATE_EVERY_S and tr._tw.width_of_current_line == 0:
            self._last_rate = now
            hs = self.session
            rate = hs.computed_images / hs.compute_seconds if hs.compute_seconds else 0.0
            stats = hs.store_stats()
            tr._tw.line(  # at a line start already: pytest's next dots continue below, under no new heading
                f"  xai-harness: {len(hs.cases)} cases, {hs.computed_images} explanations computed "
                f"({rate:.2f}/s), store {stats.get('hits', 0)} hits / {stats.get('misses', 0)} misses, "
                f"{hs.elapsed / 60:.1f} min"
            )

    def pytest_terminal_summary(self, terminalreporter, exitstatus, config: pytest.Config) -> None:
        hs = self.session
        lines = hs.summary_lines(write_report=not hasattr(config, "workerinput"), verbose=max(0, config.option.verbose))
        if not lines:
            return
        terminalreporter.section("xai-harness")
        for line in lines:
            terminalreporter.write_line(line)


def _outcome(report: pytest.TestReport) -> str:
    if hasattr(report, "wasxfail"):
        return "xpassed" if report.passed else "xfailed"
    if report.when == "setup" and report.failed:
        return "error"
    return report.outcome


def _message(report: pytest.TestReport) -> str | None:
    if hasattr(report, "wasxfail"):
        return str(report.wasxfail) or None
    if report.failed:
        crash = getattr(report.longrepr, "reprcrash", None)
        text = crash.message if crash is not None else str(report.longrepr)
        return text.splitlines()[0][:500] if text else None
    if report.skipped and isinstance(report.longrepr, tuple):
        return str(report.longrepr[2])[:500]
    return None
