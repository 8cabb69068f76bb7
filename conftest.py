"""Root conftest: offline by default, Hypothesis profiles, plugin fallback.

* ``HF_HUB_OFFLINE=1`` unless downloads are allowed, so a missing weight
  file fails in milliseconds instead of after a minute of hub retries.
* Hypothesis profiles ``dev`` and ``ci``; CI uses
  ``ci`` when ``CI`` is set, or pick with ``HYPOTHESIS_PROFILE``.
* The plugin is normally registered by the ``pytest11`` entry point; in a
  checkout that is not pip-installed, it is registered here instead.
"""

import os
from importlib.metadata import entry_points

if os.environ.get("XAI_HARNESS_ALLOW_DOWNLOAD", "") in ("", "0", "false"):
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

from hypothesis import settings  # noqa: E402

settings.register_profile("dev", max_examples=20, deadline=None, derandomize=True)
settings.register_profile("ci", max_examples=10, deadline=None, derandomize=True, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))

if "harness.plugin" not in {ep.value for ep in entry_points(group="pytest11")}:
    pytest_plugins = ["harness.plugin"]
