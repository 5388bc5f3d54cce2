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
