"""Atomic file writes: write to a temporary file beside the target, then rename it into place.

A reader never sees a half-written checkpoint, cache, pack or weight file, and an interrupted write
leaves the previous version intact. The file gets the permissions a plain ``open(path, "w")`` would
give (``mkstemp`` alone makes it private to the owner). Temporary names carry the writer's process id, so
the next write of the same file removes what a killed writer left (:func:`sweep_dead`).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_UMASK = os.umask(0)
os.umask(_UMASK)


def default_permissions(path: str | Path, directory: bool = False) -> None:
    """Give a file (or folder) made by ``mkstemp`` (``mkdtemp``) the permissions of a plain new one."""
    os.chmod(path, (0o777 if directory else 0o666) & ~_UMASK)


def pid_alive(pid: int) -> bool:
    """Whether a process ``pid`` runs on this machine (one we may not signal counts as alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_dead(folder: Path, prefix: str) -> list[Path]:
    """Remove the files and folders in ``folder`` named ``<prefix><pid>.<anything>`` whose process is dead: what a
    killed writer left. Returns what was removed."""
    import shutil

    removed = []
    for leftover in Path(folder).glob(prefix + "*"):
        pid = leftover.name[len(prefix):].split(".", 1)[0]
        if not pid.isdigit() or int(pid) == os.getpid() or pid_alive(int(pid)):
            continue
        if leftover.is_dir():
            shutil.rmtree(leftover, ignore_errors=True)
        else:
            leftover.unlink(missing_ok=True)
        removed.append(leftover)
    return removed


@contextmanager
def atomic_path(path: str | Path, suffix: str = ".tmp") -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path``, on error it is removed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sweep_dead(path.parent, f"{path.name}.pid")
    handle, tmp = tempfile.mkstemp(prefix=f"{path.name}.pid{os.getpid()}.", suffix=suffix, dir=path.parent)
    os.close(handle)
    try:
        yield Path(tmp)
        default_permissions(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
