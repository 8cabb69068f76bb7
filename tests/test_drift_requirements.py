"""A drift candidate outside the harness's own declared requirements is named, not silently run.

Quantus 0.5.3 against ``quantus>=0.6`` is the real case: under it two metrics return wrong shapes and
three raise, because the harness calls an API that changed, not because Quantus's numbers moved.
"""

from __future__ import annotations

import argparse

from harness.cli import drift as drift_cli
from harness.drift.envs import Overlay, Pin, outside_requirements


def test_versions_the_requirements_exclude_are_named():
    lines = outside_requirements({"quantus": "0.5.3", "captum": "0.8.0", "torch": "2.0.1"})
    assert lines == [
        "torch==2.0.1 is outside xai-harness's requirement torch>=2.1",
        "quantus==0.5.3 is outside xai-harness's requirement quantus>=0.6",
    ]
    assert outside_requirements({"quantus": "0.6.0", "captum": "0.7.0"}) == []


def test_a_requirement_under_an_extra_counts_and_unknown_packages_do_not():
    # ray is only in the `ray` extra; a candidate that installs an older one is still outside it
    assert outside_requirements({"ray": "2.0.0"}) == ["ray==2.0.0 is outside xai-harness's requirement ray>=2.10"]
    assert outside_requirements({"not-a-dependency": "0.0.1"}) == []
    assert outside_requirements({"quantus": "0.5.3"}, dist="no-such-distribution-here") == []


def test_drift_warns_once_per_version_and_notes_it(monkeypatch, tmp_path, capsys):
    def fake_overlay(pins, **kwargs):
        return Overlay(tmp_path / "overlay", pins, {"quantus": "0.5.3", "scipy": "1.11.0"})

    monkeypatch.setattr(drift_cli, "build_overlay", fake_overlay)
    monkeypatch.setattr(drift_cli, "run_selection", lambda python, spec, **kw: kw["folder"])
    args = argparse.Namespace(
        constraints=str(tmp_path / "none.txt"), cache=str(tmp_path / "cache"), find_links=[], allow_torch=False
    )
    session = drift_cli._Drift(args, spec=None, store=tmp_path / "store", out=tmp_path / "out")
    cand = drift_cli.Candidate((Pin("quantus", "0.5.3"),))
    assert session.run(cand) == tmp_path / "out" / cand.slug
    assert session.run(cand) is not None  # the full set, run again: no second warning
    err = capsys.readouterr().err
    assert err.count("drift: warning: quantus==0.5.3 is outside xai-harness's requirement quantus>=0.6") == 1
    assert session.unsupported == ["quantus==0.5.3 is outside xai-harness's requirement quantus>=0.6"]
    assert session.errors == []
