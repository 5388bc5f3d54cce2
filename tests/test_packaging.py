"""The repository's set-up files agree with each other."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import yaml
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_environment_yml_lists_the_same_dependencies_as_pyproject():
    project = _pyproject()["project"]
    declared = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        declared += extra
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = [d for d in environment["dependencies"] if isinstance(d, str)]
    pip = next(d["pip"] for d in environment["dependencies"] if isinstance(d, dict))
    assert any(d.startswith("python=3.11") for d in conda) and "pip" in conda
    pip_requirements = {Requirement(r).name: str(Requirement(r).specifier) for r in pip if not r.startswith("-e")}
    project_requirements = {Requirement(r).name: str(Requirement(r).specifier) for r in declared}
    assert pip_requirements == project_requirements
    assert "-e ." in pip


def test_constraints_pin_every_dependency_and_the_tested_torch():
    project = _pyproject()["project"]
    names = {Requirement(r).name for r in project["dependencies"]}
    for extra in project["optional-dependencies"].values():
        names |= {Requirement(r).name for r in extra}
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            requirement = Requirement(line)
            pins[requirement.name] = str(requirement.specifier)
    assert names == set(pins)
    assert pins["torch"] == "==2.14.1" and pins["torchvision"] == "==0.29.1"
    for name, specifier in pins.items():
        assert specifier.startswith("=="), name
        assert any(Requirement(r).name == name and Requirement(r).specifier.contains(specifier[2:])
                   for r in project["dependencies"] + sum(project["optional-dependencies"].values(), [])), name


def test_distribution_name_is_not_the_unrelated_facelib_and_import_name_is():
    project = _pyproject()["project"]
    assert project["name"] != "facelib"
    assert project["scripts"]["facelib"] == "facelib.cli:main"
    import facelib

    assert facelib.__version__ == project["version"]


def test_ci_runs_the_test_command_written_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    commands = re.findall(r"^(make \w+)\s+#", readme, flags=re.MULTILINE)
    assert commands == ["make notebooks", "make test"]
    ci = [line.split("#")[0].strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert "make test" in ci and any(line.startswith("make notebooks") for line in ci)
    # the notebook tests read what `make notebooks` executed, so it runs first and hands its folder on
    notebooks = next(k for k, line in enumerate(ci) if line.startswith("make notebooks"))
    assert notebooks < ci.index("make test")
    assert any("FACELIB_EXECUTED_NOTEBOOKS" in line for line in ci[notebooks:ci.index("make test")])


def test_the_wheel_carries_only_the_zoo_and_loads_every_model_by_name_after_pip_install(tmp_path):
    """Build the wheel from the tracked files plus a stray weights file, check that it holds the registry's six
    models and nothing else (under 50 MB), install it into a fresh venv and load every model by name, sha256
    checked, far from the checkout. The venv reaches torch and the other dependencies through a ``.pth`` file
    listing this interpreter's site folders, so the test works from a venv, from conda or from a bare interpreter
    (``--system-site-packages`` would take the base interpreter's, which a venv's tests may not have)."""
    import os
    import subprocess
    import sys
    import sysconfig
    import zipfile

    files = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=ROOT, check=True,
                           capture_output=True, text=True).stdout.split()
    source = tmp_path / "source"
    for name in files:
        if (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            (source / name).write_bytes((ROOT / name).read_bytes())
    (source / "weights" / "stray_model.safetensors").write_bytes(b"not shipped")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w",
                    str(tmp_path / "dist"), str(source)], check=True, capture_output=True)
    wheel = next((tmp_path / "dist").glob("rtnet_facelib-*.whl"))
    registered = json.loads((ROOT / "weights" / "registry.json").read_text())["models"]
    with zipfile.ZipFile(wheel) as archive:
        carried = sorted(Path(n).name for n in archive.namelist() if n.endswith(".safetensors"))
    assert carried == sorted(m["file"] for m in registered) and len(carried) == 6
    assert wheel.stat().st_size < 50 * 2**20, wheel.stat().st_size

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    ours = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"],
            *(p for p in sys.path if p.endswith(("site-packages", "dist-packages")))}
    (site / "zz_test_dependencies.pth").write_text("\n".join(sorted(p for p in ours if Path(p).is_dir())) + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps",
                    "--no-index", str(wheel)], check=True, capture_output=True)
    check = ("import facelib, facelib.weights as w; from facelib.embed import FaceEmbedder; "
             "names = [e.name for e in w.registry()]; "
             "loaded = [FaceEmbedder(weights=n).name for n in names]; "
             "print(facelib.__file__, w.weights_dir(), FaceEmbedder().name, *loaded)")
    env = {k: v for k, v in os.environ.items() if k not in ("FACELIB_WEIGHTS_DIR", "PYTHONPATH")}
    out = subprocess.run([str(python), "-c", check], cwd=tmp_path, env=env, check=True, capture_output=True,
                         text=True).stdout.split()
    assert str(venv) in out[0] and out[1].startswith(str(venv)) and out[1].endswith("_weights"), out
    default = next(m["name"] for m in registered if m["name"] == json.loads(
        (ROOT / "weights" / "registry.json").read_text())["default"])
    assert out[2] == default and out[3:] == [m["name"] for m in registered]
