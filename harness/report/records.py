"""What one case of a run measured: the record every suite makes and every report reads.

A :class:`CaseRecord` is made by the suite layer for each case (``id``
``<explainer>-<model>-<check>``), filled in as the case runs (``value``,
how many images were computed or fetched), and completed by the pytest
plugin (``outcome``, ``seconds``, ``message``).  It travels from a
pytest-xdist worker to the controller as :meth:`to_dict` and comes back
with :meth:`from_dict`; ``summary.json`` holds the same dicts.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any


@dataclass
class CaseRecord:
    """One model x explainer x check case and what it measured.

    Attributes
    ----------
    id:
        The pytest id, ``<explainer>-<model>-<check>`` (``gradcam-zoo_vit_p16-check_localisation``).
    model, explainer, check:
        Registry names (``model`` may be a label space or ``synthetic`` for
        cross-model checks and controls).
    value:
        What the check measured (a number, a dict, or the string form of
        anything else), for the report and the viewer.
    model_label:
        ``model``, or ``<model>_random`` when the weights were declared random.
    outcome, seconds, message:
        Set by the plugin from pytest's report: the outcome (``passed``,
        ``failed``, ``skipped``, ``xfailed``, ``xpassed`` or ``error``), the
        call's duration, and the first line of a failure or xfail reason.
    computed, cached:
        Images whose explanation this case computed / fetched from the store.
    native_resolution:
        The explainer's native map size ``[h, w]`` before upsampling.
    replayed:
        Nothing was computed: the outcome (:mod:`harness.compute.replay`) or the metric score came from the store.
    peak_rss_mb:
        Set by the plugin: the test process's resident high-water mark (MiB) when the case ended, so the
        case during which it rose is the one that needed the memory (``summary.json``; the terminal
        names the case that reached the run's peak).
    """

    id: str
    model: str
    explainer: str
    check: str
    value: Any = None
    model_label: str | None = None
    outcome: str | None = None
    seconds: float | None = None
    message: str | None = None
    computed: int | None = None
    cached: int | None = None
    native_resolution: list[int] | None = None
    replayed: bool = False
    peak_rss_mb: float | None = None

    @property
    def label(self) -> str:
        """The model as shown in reports: ``model_label`` when known."""
        return self.model_label or self.model

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CaseRecord:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


@dataclass
class Top1Row:
    """A model's top-1 on the labelled images of its set (the ``check_top1`` case and the report's table).

    ``foolbox_correct`` / ``foolbox_total`` count foolbox's 20 ImageNet samples among them; ``misses``
    lists ``<image id>: <predicted class>`` for each labelled image it got wrong.  Travels as
    :meth:`to_dict` (pytest-xdist, ``summary.json``)."""

    family: str
    weights: str
    correct: int
    labelled: int
    top1: float | None
    foolbox_correct: int
    foolbox_total: int
    misses: list[str]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Top1Row:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})
