"""The run's options, each declared once: pytest's ``--harness-*`` and ``python -m harness run``'s.

As pytest-benchmark's ``add_*_options(addoption, prefix)``: :func:`add_options`
takes any ``addoption``-shaped callable (a pytest option group's
``addoption``, an argparse parser's ``add_argument``) and a prefix, so the
plugin declares ``--harness-costly-images`` and the CLI ``--costly-images``
from the same :class:`Option`, with the same type, default and help::

    add_options(group.addoption, "--harness-")                  # every option
    add_options(parser.add_argument, "--", names=RUN_OPTIONS)   # the grid's share

:data:`COSTLY_IMAGES`, :data:`ZOO_IMAGES` and :data:`METRIC_IMAGES` are the
image defaults the suites and the grid share.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

COSTLY_IMAGES = 8  # moderate and expensive explainers explain the first N images
ZOO_IMAGES = 8  # shapes test images shown to the zoo models
METRIC_IMAGES = 4  # images per metric case


@dataclass(frozen=True)
class Option:
    """One option: ``name`` without its prefix; ``help`` may say ``{default}``."""

    name: str
    help: str
    default: Any = None
    type: type | None = None
    metavar: str | None = None
    action: str | None = None  # "store_true", "append" or None (store)

    def kwargs(self) -> dict[str, Any]:
        """What ``addoption`` / ``add_argument`` take (a fresh list default for ``append``)."""
        kw: dict[str, Any] = {"default": list(self.default) if self.action == "append" else self.default}
        kw["help"] = self.help.format(default=self.default)
        if self.action is not None:
            kw["action"] = self.action
        if self.type is not None:
            kw["type"] = self.type
        if self.metavar is not None:
            kw["metavar"] = self.metavar
        return kw


OPTIONS: tuple[Option, ...] = (
    Option(
        "store",
        "explanation store (default: $XAI_HARNESS_STORE or .harness/store under the rootdir; "
        "python -m harness: the current directory)",
        metavar="PATH",
    ),
    Option(
        "weights",
        "weights directory, file named after the model, or name=path; repeatable "
        "(also $XAI_HARNESS_WEIGHTS, os.pathsep-separated)",
        default=(),
        metavar="LOC",
        action="append",
    ),
    Option(
        "allow-download",
        "let models without local weights download them from the hub",
        default=False,
        action="store_true",
    ),
    Option(
        "images",
        "image set: builtin, foolbox, imagenette:PATH or folder:PATH (default: {default})",
        default="builtin",
        metavar="SPEC",
    ),
    Option("max-images", "use only the first N images of the set", type=int, metavar="N"),
    Option(
        "zoo-images",
        "shapes test images (with object masks) shown to the zoo models (default: {default})",
        default=ZOO_IMAGES,
        type=int,
        metavar="N",
    ),
    Option(
        "costly-images",
        "moderate and expensive explainers (IG, KernelSHAP, LIME, Score-CAM, ...) explain only the "
        "first N images of each set; 0 = all (default: {default})",
        default=COSTLY_IMAGES,
        type=int,
        metavar="N",
    ),
    Option("device", "torch device (default: cuda if present, else cpu)", default="auto"),
    Option("reports", "where reports/<run-id>/ is written (default: <rootdir>/reports)", metavar="DIR"),
    Option("no-report", "write no report files", default=False, action="store_true"),
    Option(
        "same-prediction",
        "in the consensus report, compare each model pair only on images both classify alike",
        default=False,
        action="store_true",
    ),
    Option("baselines", "explainer regression baselines (default: <rootdir>/suites/baselines)", metavar="DIR"),
    Option(
        "regen",
        "rewrite the regression baselines of the selected cases and fail them (review, commit, rerun)",
        default=False,
        action="store_true",
    ),
    Option(
        "regen-accept",
        "rewrite the regression baselines of the selected cases and pass",
        default=False,
        action="store_true",
    ),
    Option(
        "metric-images",
        "images per metric case in suites/test_metrics.py (default: {default})",
        default=METRIC_IMAGES,
        type=int,
        metavar="N",
    ),
    Option(
        "metric-param",
        "raise a metric's default parameter, e.g. pixel_flipping.steps=48; repeatable",
        default=(),
        metavar="METRIC.KEY=VALUE",
        action="append",
    ),
    Option(
        "metric-explainers",
        "explainers scored by suites/test_metrics.py: 'regression' (default: the explainers "
        "tagged regression=True), 'all', or name,name",
        default="regression",
        metavar="SET",
    ),
    Option(
        "metric-optin",
        "run METRIC also on models its sources tag leaves out of the default budget "
        "(mprt: by default on zoo and toy models with cheap and moderate explainers); '*' for all; repeatable",
        default=(),
        metavar="METRIC",
        action="append",
    ),
    Option(
        "show-skipped",
        "keep the cases of models without weights as skips (default: deselect them and list the "
        "models once in the summary)",
        default=False,
        action="store_true",
    ),
)

BY_NAME = {o.name: o for o in OPTIONS}

# the options ``python -m harness run`` shares with pytest (what decides the store keys it fills)
RUN_OPTIONS = ("images", "max-images", "zoo-images", "costly-images", "metric-images", "store", "weights", "device")


def add_options(addoption: Callable[..., Any], prefix: str, *, names: Iterable[str] | None = None) -> None:
    """Declare the options (all, or ``names`` in that order) through ``addoption`` as ``<prefix><name>``."""
    for opt in OPTIONS if names is None else [BY_NAME[n] for n in names]:
        addoption(f"{prefix}{opt.name}", **opt.kwargs())


def default(name: str) -> Any:
    """The declared default of option ``name``."""
    return BY_NAME[name].default
