"""``index.html``: one self-contained page to look at a run.

The page embeds the run's data as JSON and inlines its script and style
(:file:`harness/report/assets/`), and points at the gallery's overlay files
by relative paths: it opens from disk with no server and no network.  It
lets a person pick an image and see every model x explainer overlay, put
two models side by side (a CAM beside a ViT's rollout by default), change
the overlay opacity, filter by family and explainer, sort the leaderboard
by any column, read each case's value and outcome, and read settings,
versions and the machine as tables.  JSON files written beside it
(``leaderboard.json``, ``consensus.json``, ``summary.json``) are rendered
generically, so new fields show without a change here.
"""

from __future__ import annotations

import html
import json
import math
from importlib import resources
from pathlib import Path
from typing import Any

from ..core.atomic import write_atomic


def asset(name: str) -> str:
    """The text of a packaged asset (``viewer.js``, ``viewer.css``)."""
    return resources.files("harness.report").joinpath("assets", name).read_text(encoding="utf-8")


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _script_json(data: Any) -> str:
    """JSON safe inside ``<script>``: no ``</`` and no HTML comment openers."""
    text = json.dumps(data, default=str, allow_nan=False, separators=(",", ":"))
    return text.replace("</", "<\\/").replace("<!--", "<\\!--")


def _finite(value: Any) -> Any:
    """NaN and infinities as strings (JSON has none)."""
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def viewer_data(out: Path, run: dict[str, Any], gallery: dict[str, Any]) -> dict[str, Any]:
    """Everything the page shows, from the run's info, its gallery index and the JSON files in ``out``."""
    summary = _read_json(out / "summary.json") or {}
    files = [
        name
        for name in (
            "index.md",
            "summary.md",
            "summary.json",
            "properties.md",
            "properties.json",
            "ground-truth.md",
            "leaderboard.md",
            "leaderboard.csv",
            "leaderboard.json",
            "metric_agreement.csv",
            "consensus.json",
        )
        if (out / name).is_file()
    ]
    return _finite(
        {
            "run": {k: run.get(k) for k in ("run_id", "commit", "machine", "versions", "settings")},
            "store": summary.get("store", {}),
            "gallery": gallery,
            "cases": summary.get("cases", []),
            "top1": summary.get("top1", {}),
            "skipped_models": summary.get("skipped_models", {}),
            "bad_images": summary.get("bad_images", {}),
            "leaderboard": _read_json(out / "leaderboard.json"),
            "consensus": _read_json(out / "consensus.json"),
            "files": files,
        }
    )


def write_viewer(out: Path, run: dict[str, Any], gallery: dict[str, Any]) -> Path:
    """Write ``out/index.html`` and return its path."""
    data = viewer_data(out, run, gallery)
    title = f"xai-harness run {run.get('run_id', out.name)}"
    page = (
        "<!doctype html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{html.escape(title)}</title>\n<style>\n{asset('viewer.css')}\n</style></head>\n<body>\n"
        f"<header><h1>{html.escape(title)}</h1><p id='run-line'></p></header>\n"
        "<noscript>This page needs JavaScript; index.md holds the same run as plain text.</noscript>\n"
        "<main id='app'></main>\n"
        f"<script type='application/json' id='harness-data'>{_script_json(data)}</script>\n"
        f"<script>\n{asset('viewer.js')}\n</script>\n</body></html>\n"
    )
    return write_atomic(out / "index.html", page)
