"""Explanation drift: diff two runs case by case, judge against a noise floor, rerun under candidate dependencies.

* :mod:`.runs`: one side of a diff (run folder, report folder, or store + selection);
* :mod:`.measures` and :mod:`.noise` (re-exports of :mod:`harness.compare.change` and
  :mod:`harness.checks.noise`): how far one map moved; the determinism class and spread of an
  explainer x model, and the tolerance it gives (the regression baselines record it too);
* :mod:`.diff` and :mod:`.reportdiff`: the comparison; :mod:`.render`: table, JSON, JUnit, HTML;
* :mod:`.envs`: overlay environments per dependency set; :mod:`.attribute`: which package moved a case.

See ``docs/drift.md``.
"""
