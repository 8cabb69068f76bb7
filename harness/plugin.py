"""pytest wiring only: options, the session fixture, hooks (STYLE.md pattern 4).

Registered through the ``pytest11`` entry point ``harness``.  Run state is
one :class:`~harness.session.HarnessSession` in ``config.stash``.  Results
travel from test to report as ``user_properties``, so they survive
pytest-xdist: the controller aggregates them and writes the report.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from .session import HarnessOptions, HarnessSession

SESSION_KEY = pytest.StashKey[HarnessSession]()
PROP_CASE = "harness_case"
PROP_TOP1 = "harness_top1"
PROP_SKIP = "harness_skip"


def pytest_addoption(parser: pytest.Parser) -> None:
    g = parser.getgroup("xai-harness")
    g.addoption(
        "--harness-store",
        default=None,
        metavar="PATH",
        help="explanation store (default: $XAI_HARNESS_STORE or <rootdir>/.harness/store)",
    )
    g.addoption(
        "--harness-weights",
        action="append",
        default=[],
        metavar="LOC",
        help="weights directory, file named after the model, or name=path; repeatable "
        "(also $XAI_HARNESS_WEIGHTS, os.pathsep-separated)",
    )
    g.addoption(
        "--harness-allow-download",
        action="store_true",
        default=False,
        help="let models without local weights download them from the hub",
    )
    g.addoption(
        "--harness-images",
        default="builtin",
        metavar="SPEC",
        help="image set: builtin, foolbox, imagenette:PATH or folder:PATH (default: builtin)",
    )
    g.addoption(
        "--harness-max-images", type=int, default=None, metavar="N", help="use only the first N images of the set"
    )
    g.addoption(
        "--harness-zoo-images",
        type=int,
        default=8,
        metavar="N",
        help="shapes test images (with object masks) shown to the zoo models (default: 8)",
    )
    g.addoption(
        "--harness-costly-images",
        type=int,
        default=8,
        metavar="N",
        help="moderate and expensive explainers (IG, KernelSHAP, LIME, Score-CAM, ...) explain only the "
        "first N images of each set; 0 = all (default: 8)",
    )
    g.addoption("--harness-device", default="auto", help="torch device (default: cuda if present, else cpu)")
    g.addoption(
        "--harness-reports",
        default=None,
        metavar="DIR",
        help="where reports/<run-id>/ is written (default: <rootdir>/reports)",
    )
    g.addoption("--harness-no-report", action="store_true", default=False, help="write no report files")
    g.addoption(
        "--harness-same-prediction",
        action="store_true",
        default=False,
        help="in the consensus report, compare each model pair only on images both classify alike",
    )
    g.addoption(
        "--harness-baselines",
        default=None,
        metavar="DIR",
        help="explainer regression baselines (default: <rootdir>/suites/baselines)",
    )
    g.addoption(
        "--harness-regen",
        action="store_true",
        default=False,
        help="rewrite the regression baselines of the selected cases instead of comparing",
    )
    g.addoption(
        "--harness-metric-images",
        type=int,
        default=4,
        metavar="N",
        help="images per metric case in suites/test_metrics.py (default: 4)",
    )
    g.addoption(
        "--harness-metric-param",
        action="append",
        default=[],
        metavar="METRIC.KEY=VALUE",
        help="raise a metric's default parameter, e.g. pixel_flipping.steps=48; repeatable",
    )
    g.addoption(
        "--harness-metric-explainers",
        default="regression",
        metavar="SET",
        help="explainers scored by suites/test_metrics.py: 'regression' (default: the explainers "
        "tagged regression=True), 'all', or name,name",
    )
    g.addoption(
        "--harness-metric-optin",
        action="append",
        default=[],
        metavar="METRIC",
        help="run METRIC also on models its sources tag leaves out of the default budget "
        "(mprt: by default on zoo and toy models with cheap and moderate explainers); '*' for all; "
        "repeatable",
    )


def pytest_configure(config: pytest.Config) -> None:
    for name, doc in (
        ("cnn", "convolutional models"),
        ("transformer", "vision transformers"),
        ("hybrid", "hybrid CNN/transformer models"),
        ("slow", "expensive explainers"),
        ("gpu", "needs CUDA"),
    ):
        config.addinivalue_line("markers", f"{name}: {doc}")
    from .store import Store

    root = Path(config.rootpath)
    opt = config.option
    options = HarnessOptions(
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
        baselines=Path(opt.harness_baselines) if opt.harness_baselines else root / "suites" / "baselines",
        regen=opt.harness_regen,
        same_prediction=opt.harness_same_prediction,
    )
    config.stash[SESSION_KEY] = HarnessSession(options, root, progress=_progress_writer(config))
    config.pluginmanager.register(HarnessReporter(config), "harness-reporter")


def _progress_writer(config: pytest.Config):
    def write(what: str, done: int, total: int, seconds: float) -> None:
        tr = config.pluginmanager.get_plugin("terminalreporter")
        capman = config.pluginmanager.get_plugin("capturemanager")
        if tr is None or config.option.verbose < -1:
            return
        msg = f"    [{what}] {done}/{total} images computed, {seconds:.1f}s"
        if capman is not None:
            with capman.global_and_fixture_disabled():
                tr.write_line(msg)
        else:
            tr.write_line(msg)

    return write


@pytest.fixture(scope="session")
def harness(pytestconfig: pytest.Config) -> HarnessSession:
    """The session's :class:`~harness.session.HarnessSession`."""
    return pytestconfig.stash[SESSION_KEY]


class HarnessReporter:
    """Collects harness results from test reports and writes the report."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    @property
    def session(self) -> HarnessSession:
        return self.config.stash[SESSION_KEY]

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when != "call" and not (report.when == "setup" and report.skipped):
            return
        hs = self.session
        props = dict(report.user_properties)
        if PROP_SKIP in props:
            model, reason = props[PROP_SKIP]
            hs.skipped_models[model] = reason
        if PROP_TOP1 in props:
            model, row = props[PROP_TOP1]
            hs.top1[model] = row
        if PROP_CASE in props:
            info = dict(props[PROP_CASE])
            info["outcome"] = "xfailed" if hasattr(report, "wasxfail") else report.outcome
            info["seconds"] = round(report.duration, 3)
            hs.cases.append(info)

    def pytest_terminal_summary(self, terminalreporter, exitstatus, config: pytest.Config) -> None:
        hs = self.session
        if not (hs.cases or hs.top1 or hs.skipped_models):
            return
        from .report.summary import TOP1_HEADERS, top1_rows
        from .report.table import render_table

        tr = terminalreporter
        tr.section("xai-harness")
        if hs.top1:
            tr.write_line(render_table(TOP1_HEADERS, top1_rows(hs.top1), title="Top-1 on labelled images"))
        stats = hs.store_stats()
        if stats:
            tr.write_line(
                f"store: {stats['hits']} hits, {stats['misses']} misses, {stats['writes']} writes ({hs.options.store})"
            )
        if hs.skipped_models:
            tr.write_line(
                f"{len(hs.skipped_models)} model(s) skipped for want of weights, e.g.: "
                f"{next(iter(hs.skipped_models.values()))}"
            )
        for msg in hs.bad_images.values():
            tr.write_line(f"unreadable image left out: {msg}")
        if hs.options.write_report and not hasattr(config, "workerinput") and (hs.cases or hs.top1):
            from .report.consensus import ConsensusOptions
            from .report.run_info import new_run_id
            from .report.summary import build_report
            from .store import Store

            cases = {(c["model"], c["explainer"]) for c in hs.cases}
            out, consensus = build_report(
                hs.options.reports,
                new_run_id(),
                root=hs.rootdir,
                store=Store(hs.options.store),
                settings={k: str(v) for k, v in vars(hs.options).items()},
                cases_filter=cases,
                consensus_options=ConsensusOptions(same_prediction=hs.options.same_prediction),
                session=dict(
                    cases=hs.cases,
                    top1=hs.top1,
                    skipped_models=hs.skipped_models,
                    bad_images=hs.bad_images,
                    store_stats=stats,
                ),
            )
            from .report.index import consensus_lines

            for line in consensus_lines(consensus):
                tr.write_line(line)
            tr.write_line(f"report: {os.path.relpath(out, Path.cwd())}/index.md")
