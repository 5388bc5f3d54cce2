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
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert "make test" in ci and "make notebooks" in ci


def test_a_wheel_install_finds_the_registry_and_the_shipped_weights(tmp_path):
    """Build the wheel from the tracked files, install it into a fresh venv (the dependencies from this
    environment) and load the default model's registry entry, sha256 checked, far from the checkout."""
    import os
    import subprocess
    import sys

    files = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=ROOT, check=True,
                           capture_output=True, text=True).stdout.split()
    source = tmp_path / "source"
    for name in files:
        if (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            (source / name).write_bytes((ROOT / name).read_bytes())
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w",
                    str(tmp_path / "dist"), str(source)], check=True, capture_output=True)
    wheel = next((tmp_path / "dist").glob("rtnet_facelib-*.whl"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", str(wheel)],
                   check=True, capture_output=True)
    check = ("import facelib, facelib.weights as w; "
             "entry = next(e for e in w.registry() if e.default); w.verify_entry(entry); "
             "print(facelib.__file__, w.weights_dir(), entry.key, len(w.registry()))")
    env = {k: v for k, v in os.environ.items() if k != "FACELIB_WEIGHTS_DIR"}
    out = subprocess.run([str(python), "-c", check], cwd=tmp_path, env=env, check=True, capture_output=True,
                         text=True).stdout.split()
    registered = json.loads((ROOT / "weights" / "registry.json").read_text())
    assert str(venv) in out[0] and out[1].startswith(str(venv)) and out[1].endswith("_weights"), out
    assert int(out[3]) == len(registered["weights"]) > 0
