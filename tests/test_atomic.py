"""facelib._atomic: all or nothing, with ordinary permissions."""

from __future__ import annotations

import os
import stat

import pytest

from facelib._atomic import atomic_path


def test_atomic_path_replaces_only_on_success_with_default_permissions(tmp_path):
    target = tmp_path / "sub" / "file.bin"
    with atomic_path(target) as tmp:
        tmp.write_bytes(b"first")
        assert not target.exists()
    assert target.read_bytes() == b"first"
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("killed mid-write")
    assert target.read_bytes() == b"first"
    assert [p.name for p in target.parent.iterdir()] == ["file.bin"]


KILLED_WRITER = """
import os, signal, sys, tarfile
from pathlib import Path
from facelib._atomic import atomic_path
from facelib.data import fetch

if sys.argv[1] == "write":
    with atomic_path(Path(sys.argv[2])) as tmp:
        tmp.write_bytes(b"half of it")
        os.kill(os.getpid(), signal.SIGKILL)
else:
    def killed(self, *args, **kwargs):
        os.kill(os.getpid(), signal.SIGKILL)
    tarfile.TarFile.extractall = killed
    fetch.extract(Path(sys.argv[2]), Path(sys.argv[3]))
"""


def test_what_a_killed_write_or_extraction_leaves_is_swept_by_the_next_one(tmp_path):
    import signal
    import subprocess
    import sys
    import tarfile

    from facelib.data import fetch

    script = tmp_path / "killed.py"
    script.write_text(KILLED_WRITER)
    target = tmp_path / "out" / "result.json"
    target.parent.mkdir()
    target.write_text("kept")
    run = subprocess.run([sys.executable, str(script), "write", str(target)])
    assert run.returncode == -signal.SIGKILL
    left = [p.name for p in target.parent.iterdir() if p != target]
    assert len(left) == 1 and left[0].startswith("result.json.pid")  # the killed writer's temporary file
    assert target.read_text() == "kept"
    with atomic_path(target) as tmp:  # the next write of the same file sweeps it
        tmp.write_text("new")
    assert sorted(p.name for p in target.parent.iterdir()) == ["result.json"] and target.read_text() == "new"

    archive = tmp_path / "tiny.tgz"
    (tmp_path / "member.txt").write_text("x" * 1000)
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(tmp_path / "member.txt", arcname="tiny/member.txt")
    dest = tmp_path / "cache"
    run = subprocess.run([sys.executable, str(script), "extract", str(archive), str(dest)])
    assert run.returncode == -signal.SIGKILL
    assert [p.name.startswith("tiny.tgz.extracting-") for p in dest.iterdir()] == [True]
    fetch.extract(archive, dest)
    assert sorted(p.name for p in dest.iterdir()) == ["tiny.tgz.extracted"]
    # killed once more: the archive is extracted already, and the next call still sweeps the leftover
    (dest / f"tiny.tgz.extracting-{_dead_pid()}.x1").mkdir()
    fetch.extract(archive, dest)
    assert sorted(p.name for p in dest.iterdir()) == ["tiny.tgz.extracted"]


def _dead_pid() -> int:
    import subprocess
    import sys

    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(child.stdout)
