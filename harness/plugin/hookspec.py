"""The harness's own pytest hooks (registered by :mod:`harness.plugin` through ``pytest_addhooks``).

Implement them in a ``conftest.py`` or a pytest plugin of your project.

Register your models, explainers and image sets::

    # conftest.py
    from harness.explainers import ExplainerCfg, RawExplanation

    def pytest_harness_register(registry):
        registry.checkpoint_model(
            "shapes_resnet", arch="resnet18", checkpoint="model.safetensors",
            class_names=["circle", "square", "triangle"], images="data/val",
        )

        @registry.explainer(ExplainerCfg(name="input_grad", title="Input x gradient", group="gradient",
                                         multiplies_by_inputs=True))
        def input_grad(model, x, target):
            ...
            return RawExplanation(attributions=...)

A package registers the same function under the entry-point group
``xai_harness.plugins`` (see :mod:`harness.cases.project`), and a
``pyproject.toml`` declares them in ``[tool.xai-harness]``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from ..cases.project import HarnessRegistry

hookspec = pluggy.HookspecMarker("pytest")


@hookspec
def pytest_harness_register(registry: HarnessRegistry) -> None:
    """Register models, explainers and image sets before collection.

    Called once per session, after ``[tool.xai-harness]`` of the project's
    ``pyproject.toml`` and the ``xai_harness.plugins`` entry points are
    loaded, so an implementation may replace what they declared.
    ``registry`` is a :class:`harness.cases.project.HarnessRegistry`.
    """
