"""Every file the harness writes goes through ``harness.core.atomic.write_atomic``.

A source scan: direct writers (``Path.write_text``/``write_bytes``,
``savefig``, ``open(..., "w")``, ``np.save``/``to_csv`` to a path) may
appear only in the few places listed here, each with the reason it is not a
plain file write.
"""

import re
from pathlib import Path

import numpy as np

import harness
from harness.core.atomic import write_atomic

PACKAGE = Path(harness.__file__).parent
# to_csv / np.save count when their first argument is a path (not a keyword, not an in-memory buffer)
DIRECT = re.compile(
    r"\.write_text\(|\.write_bytes\(|\.savefig\(|open\([^)]*['\"][wa]b?['\"]|np\.save\((?!buf\b)|\.to_csv\((?!\w+=|\))"
)

ALLOWED = {
    # the helper itself
    "core/atomic.py": 'with os.fdopen(fd, "wb") as fh:',
    # an advisory lock file, never read
    "zoo/manifest.py": 'with open(out / ".manifest.lock", "w") as lock:',
    # written inside a temporary folder that is renamed whole (the folder write is the atomic step)
    "zoo/shapes.py": '(tmp / "index.json").write_text(',
    # public plotting API at the bottom layer (compare imports no core); the reports wrap it in write_atomic
    "compare/clustering.py": 'fig.savefig(out, format="png", dpi=dpi)',
}


def _direct_writes():
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        for line in path.read_text().splitlines():
            if DIRECT.search(line) and "lambda tmp" not in line:
                yield rel, line.strip()


def test_writes_go_through_write_atomic():
    found = list(_direct_writes())
    unexpected = [(rel, line) for rel, line in found if ALLOWED.get(rel) != line]
    assert not unexpected, f"direct file writes outside write_atomic: {unexpected}"
    assert {rel for rel, _ in found} == set(ALLOWED), "ALLOWED lists a write that is gone: drop it"


def test_a_writer_function_writes_the_temporary_file(tmp_path):
    target = tmp_path / "sub" / "a.npy"

    def writer(tmp):
        with open(tmp, "wb") as fh:
            np.save(fh, np.arange(3))

    assert write_atomic(target, writer) == target
    assert np.load(target).tolist() == [0, 1, 2]
    assert [p.name for p in target.parent.iterdir()] == ["a.npy"]  # no temporary file left


def test_written_files_get_the_permissions_of_a_plain_write(tmp_path):
    from harness.core.atomic import write_atomic

    plain = tmp_path / "plain.txt"
    plain.write_text("x")  # the reference: what open(path, "w") gives under this umask
    for data in (b"x", "x", lambda p: p.write_text("x")):
        out = write_atomic(tmp_path / "atomic.txt", data)
        assert out.stat().st_mode & 0o777 == plain.stat().st_mode & 0o777
