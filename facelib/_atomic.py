"""Atomic file writes: write to a temporary file beside the target, then rename it into place.

A reader never sees a half-written checkpoint, cache, pack or weight file, and an interrupted write
leaves the previous version intact. The file gets the permissions a plain ``open(path, "w")`` would
give (``mkstemp`` alone makes it private to the owner).
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


@contextmanager
def atomic_path(path: str | Path, suffix: str = ".tmp") -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path``, on error it is removed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=suffix, dir=path.parent)
    os.close(handle)
    try:
        yield Path(tmp)
        default_permissions(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
