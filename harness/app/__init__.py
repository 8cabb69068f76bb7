"""``python -m harness explore``: a local web app that explains one image on many models, side by side.

Layers, each importable on its own:

* :mod:`~harness.app.uploads`: an uploaded file checked and decoded (or a built-in/zoo image);
* :mod:`~harness.app.session`: loaded models (once, with a lock each) and the store behind every answer;
* :mod:`~harness.app.checks`: the suites' single-image checks on each map;
* :mod:`~harness.app.job`: one request as a generator of steps (progress, cancellation between maps);
* :mod:`~harness.app.render`: overlays in the viewer's colours, the grid, the figure and the downloads;
* :mod:`~harness.app.ui`: the Gradio page (needs the ``app`` extra: ``pip install xai-harness[app]``).
"""

from .job import Comparison, explore
from .session import ExploreSession, available_models
from .uploads import Picture, UploadError, read_pick, read_upload

__all__ = [
    "Comparison",
    "ExploreSession",
    "Picture",
    "UploadError",
    "available_models",
    "explore",
    "read_pick",
    "read_upload",
]
