"""The options are declared once (harness/cases/defaults.py) and keep their names and defaults.

The pinned tables are what ``pytest --help`` (group *xai-harness*) and ``python -m harness run --help``
declared on the commit before the declarations moved (b02e429): name, default, action, type, metavar.
"""

import argparse

import pytest

from harness.cases import defaults
from harness.cli import run as cli_run
from harness.plugin import pytest_addoption
from harness.suite.session import HarnessOptions

PYTEST_BEFORE = {
    "--harness-store": (None, None, None, "PATH"),
    "--harness-weights": ([], "append", None, "LOC"),
    "--harness-allow-download": (False, "store_true", None, None),
    "--harness-images": ("builtin", None, None, "SPEC"),
    "--harness-max-images": (None, None, "int", "N"),
    "--harness-zoo-images": (8, None, "int", "N"),
    "--harness-costly-images": (8, None, "int", "N"),
    "--harness-device": ("auto", None, None, None),
    "--harness-reports": (None, None, None, "DIR"),
    "--harness-no-report": (False, "store_true", None, None),
    "--harness-same-prediction": (False, "store_true", None, None),
    "--harness-baselines": (None, None, None, "DIR"),
    "--harness-regen": (False, "store_true", None, None),
    "--harness-regen-accept": (False, "store_true", None, None),
    "--harness-metric-images": (4, None, "int", "N"),
    "--harness-metric-param": ([], "append", None, "METRIC.KEY=VALUE"),
    "--harness-metric-explainers": ("regression", None, None, "SET"),
    "--harness-metric-optin": ([], "append", None, "METRIC"),
    "--harness-show-skipped": (False, "store_true", None, None),
}

CLI_BEFORE = {
    "--models": (None, "store", None, None),
    "--explainers": (None, "store", None, None),
    "--preset": (None, "store", None, None),
    "--images": ("builtin", "store", None, "SPEC"),
    "--max-images": (None, "store", "int", "N"),
    "--zoo-images": (8, "store", "int", "N"),
    "--costly-images": (8, "store", "int", "N"),
    "--metric-images": (4, "store", "int", "N"),
    "--store": (None, "store", None, "PATH"),
    "--weights": ([], "append", None, "LOC"),
    "--random-weights-ok": (False, "store_true", None, None),
    "--device": ("auto", "store", None, None),
    "--engine": ("local", "store", None, None),
    "--address": (None, "store", None, None),
    "--workers": (None, "store", "int", None),
    "--gpus-per-worker": (None, "store", "float", None),
    "--threads": (None, "store", "int", None),
    "--no-progress": (False, "store_true", None, None),
}
ACTIONS = {"_StoreAction": "store", "_AppendAction": "append", "_StoreTrueAction": "store_true"}


class _Group:
    """Records what ``pytest_addoption`` declares (a stand-in for pytest's parser and option group)."""

    def __init__(self) -> None:
        self.options: dict[str, dict] = {}

    def getgroup(self, name: str) -> "_Group":
        assert name == "xai-harness"
        return self

    def addoption(self, *names: str, **kw) -> None:
        self.options[names[0]] = kw


def _pytest_options() -> dict[str, dict]:
    group = _Group()
    pytest_addoption(group)
    return group.options


def _run_parser() -> argparse.ArgumentParser:
    sub = argparse.ArgumentParser().add_subparsers()
    cli_run.add_parser(sub)
    return sub.choices["run"]


def test_pytest_options_keep_their_names_and_defaults():
    got = {
        name: (kw.get("default"), kw.get("action"), kw["type"].__name__ if "type" in kw else None, kw.get("metavar"))
        for name, kw in _pytest_options().items()
    }
    assert got == PYTEST_BEFORE


def test_run_options_keep_their_names_and_defaults():
    got = {
        a.option_strings[0]: (a.default, ACTIONS[type(a).__name__], a.type.__name__ if a.type else None, a.metavar)
        for a in _run_parser()._actions
        if a.option_strings and a.option_strings[0] != "-h"
    }
    assert got == CLI_BEFORE


@pytest.mark.parametrize("name", defaults.RUN_OPTIONS)
def test_shared_option_is_one_declaration(name):
    """``--<name>`` of ``harness run`` and ``--harness-<name>`` of pytest: same default, type and help."""
    pytest_kw = _pytest_options()[f"--harness-{name}"]
    action = next(a for a in _run_parser()._actions if f"--{name}" in a.option_strings)
    assert (action.default, action.type, action.help) == (
        pytest_kw["default"],
        pytest_kw.get("type"),
        pytest_kw["help"],
    ), name


def test_session_options_default_to_the_declarations(tmp_path):
    opts = HarnessOptions(store=tmp_path, reports=tmp_path)
    for field in (
        "images",
        "max_images",
        "zoo_images",
        "costly_images",
        "metric_images",
        "device",
        "metric_explainers",
    ):
        assert getattr(opts, field) == defaults.default(field.replace("_", "-")), field


def test_help_says_the_declared_default():
    help_text = _pytest_options()["--harness-costly-images"]["help"]
    assert help_text.endswith(f"(default: {defaults.COSTLY_IMAGES})")


def test_append_options_get_a_fresh_list():
    a, b = _pytest_options()["--harness-weights"], _pytest_options()["--harness-weights"]
    assert a["default"] == [] and a["default"] is not b["default"]


def test_help_texts_list_every_option(pytester, capsys):
    """``pytest --help`` and ``python -m harness run --help`` show every pinned option, with its metavar."""
    from harness.cli import main

    text = "\n".join(pytester.runpytest("--help").outlines)
    for name, (_default, _action, _type, metavar) in PYTEST_BEFORE.items():
        assert (f"{name}={metavar}" if metavar else name) in text, name
    assert "(default: 8)" in text and "(default: 4)" in text
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    out = capsys.readouterr().out
    for name, (_default, _action, _type, metavar) in CLI_BEFORE.items():
        assert (f"{name} {metavar}" if metavar else name) in out, name
