"""Ships the repository's ``weights/`` folder (registry, model cards, the small trained weights) inside the
wheel as ``facelib/_weights``, where :func:`facelib.weights.weights_dir` finds it after ``pip install``.

Everything else is declared in ``pyproject.toml``. A hook is needed because setuptools' package data only
reaches files below the package directory, and ``weights/`` stays at the top of the repository (where a
checkout, an editable install and the notebooks use it).
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
SHIPPED = ("*.json", "*.safetensors", "*.md", "*.txt")


class BuildWithWeights(build_py):
    def run(self):
        super().run()
        if self.editable_mode:  # an editable install reads weights/ in place
            return
        target = Path(self.build_lib) / "facelib" / "_weights"
        target.mkdir(parents=True, exist_ok=True)
        for pattern in SHIPPED:
            for path in sorted((ROOT / "weights").glob(pattern)):
                shutil.copy2(path, target / path.name)


setup(cmdclass={"build_py": BuildWithWeights})
