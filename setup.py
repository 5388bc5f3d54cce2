"""Ships the zoo inside the wheel as ``facelib/_weights``, where :func:`facelib.weights.weights_dir` finds it after
``pip install``: the registry, the results and lineage files, the weights README, the identity list, and for each
model the registry names its weights file and its card. Nothing else from ``weights/`` (a stray or retired file
never reaches a user).

Everything else is declared in ``pyproject.toml``. A hook is needed because setuptools' package data only
reaches files below the package directory, and ``weights/`` stays at the top of the repository (where a
checkout, an editable install and the notebooks use it).
"""

import json
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
ALWAYS = ("registry.json", "results.json", "lineage.jsonl", "README.md", "training_pool_identities.txt")


def shipped_files(weights: Path) -> list[str]:
    """The files of ``weights/`` that the wheel carries (names relative to it)."""
    registry = json.loads((weights / "registry.json").read_text())
    named = [name for model in registry["models"] for name in (model["file"], model.get("card")) if name]
    return [name for name in ALWAYS if (weights / name).is_file()] + named


class BuildWithWeights(build_py):
    def run(self):
        super().run()
        if self.editable_mode:  # an editable install reads weights/ in place
            return
        target = Path(self.build_lib) / "facelib" / "_weights"
        target.mkdir(parents=True, exist_ok=True)
        for name in shipped_files(ROOT / "weights"):
            shutil.copy2(ROOT / "weights" / name, target / name)


setup(cmdclass={"build_py": BuildWithWeights})
