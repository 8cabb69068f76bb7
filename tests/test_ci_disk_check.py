"""``.ci/disk_check``, run by ``.ci/run`` before building: a nearly full disk is named up front.

The last CI failure of this project was pip's bare ``No space left on device`` minutes into the build.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / ".ci" / "disk_check"


def _run(need_gb: int, *dirs: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(SCRIPT), str(need_gb), *map(str, dirs)], capture_output=True, text=True)


def test_warns_for_each_folder_short_of_space_and_still_exits_0(tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    proc = _run(10**9, tmp_path, other)  # no disk has a billion GB free
    assert proc.returncode == 0
    lines = proc.stderr.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("warning: only ") and f"GB free on {tmp_path};" in lines[0]
    assert f"GB free on {other};" in lines[1] and "needs about 1000000000 GB" in lines[1]
    assert "No space left on device" in lines[0]


def test_silent_when_there_is_room(tmp_path):
    proc = _run(0, tmp_path)
    assert proc.returncode == 0 and proc.stderr == ""


def test_ci_run_calls_it_before_installing_anything():
    run = (SCRIPT.parent / "run").read_text()
    assert "bash .ci/disk_check 10 " in run
    assert run.index("bash .ci/disk_check") < run.index("python3 -m pip install")
