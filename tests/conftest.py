"""Shared fixtures: the reference data mirror, and how tests that need it skip or fail."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_MIRROR = ROOT.parent / "shared" / "data"
FETCH_HINT = (
    "reference data not found: set FACELIB_DATA_MIRROR to a folder laid out like the official downloads "
    "(this project's CI uses ../shared/data), or run `facelib fetch lfw` to download into the cache; "
    "see data/README.md"
)


def _mirror() -> Path | None:
    configured = os.environ.get("FACELIB_DATA_MIRROR")
    if configured and "://" not in configured:
        path = Path(configured).expanduser()
        return path if path.is_dir() else None
    return DEFAULT_MIRROR if DEFAULT_MIRROR.is_dir() else None


@pytest.fixture(scope="session")
def repo_script():
    """Import a repository script (``scripts/``, ``benchmarks/``) as a module: ``repo_script("benchmarks/x.py")``."""
    import importlib.util

    def load(relative: str):
        path = ROOT / relative
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return load


@pytest.fixture(scope="session")
def mirror() -> Path:
    """The local data mirror. Skips with instructions when absent; fails when CI requires the data."""
    path = _mirror()
    if path is None:
        if os.environ.get("FACELIB_REQUIRE_DATA") == "1":
            pytest.fail("FACELIB_REQUIRE_DATA=1 but " + FETCH_HINT)
        pytest.skip(FETCH_HINT)
    return path


@pytest.fixture(scope="session")
def data_env(mirror: Path, tmp_path_factory) -> Path:
    """Point facelib's data code at the mirror for the whole session (cache in a temp folder unless set)."""
    os.environ["FACELIB_DATA_MIRROR"] = str(mirror)
    os.environ.setdefault("FACELIB_DATA_DIR", str(tmp_path_factory.mktemp("facelib-data")))
    return mirror


@pytest.fixture(scope="session")
def lfw_photo(data_env):
    """A real deep-funneled LFW photo ``(250, 250, 3)`` uint8 RGB and its face box."""
    from facelib.data.images import load_image
    from facelib.data.lfw import DEEPFUNNELED_FACE_BOX, image_path

    return load_image(image_path("Aaron_Eckhart", 1)), DEEPFUNNELED_FACE_BOX
