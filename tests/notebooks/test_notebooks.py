"""The notebooks run headless on their embedded defaults, and are committed without outputs."""

from __future__ import annotations

import os
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from facelib.weights import registry

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb"))


def _outputs_text(notebook) -> str:
    texts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            texts.append(output.get("text", "") or output.get("data", {}).get("text/plain", ""))
    return "\n".join(texts)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_committed_without_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    dirty = [i for i, cell in enumerate(notebook.cells)
             if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)]
    assert not dirty, f"{path.name}: clear the outputs of cells {dirty} before committing (reviewable diffs)"
    assert any("parameters" in cell.metadata.get("tags", []) for cell in notebook.cells)


def _code(notebook) -> list[str]:
    return [cell.source for cell in notebook.cells if cell.cell_type == "code"]


def _execute(name: str, tmp_path: Path):
    """Runs notebook ``name`` headless; returns its outputs' text and its figure count.

    With ``FACELIB_EXECUTED_NOTEBOOKS`` set (CI sets it to the folder ``make notebooks`` just wrote), the notebook
    that run executed is read instead of running it a second time; its code must be the committed code, cell for
    cell, so outputs of an older notebook cannot pass."""
    path = NOTEBOOKS[[p.name for p in NOTEBOOKS].index(name)]
    notebook = nbformat.read(path, as_version=4)
    executed_dir = os.environ.get("FACELIB_EXECUTED_NOTEBOOKS")
    if executed_dir:
        executed_path = Path(executed_dir) / name
        if not executed_path.is_file():
            pytest.fail(f"FACELIB_EXECUTED_NOTEBOOKS={executed_dir} holds no {name}: run "
                        f"`make notebooks OUT={executed_dir}`")
        executed = nbformat.read(executed_path, as_version=4)
        if _code(executed) != _code(notebook):
            pytest.fail(f"{executed_path} was executed from other code than notebooks/{name}: run `make notebooks` "
                        "again")
        notebook = executed
    else:
        resources = {"metadata": {"path": str(tmp_path)}}
        NotebookClient(notebook, timeout=900, kernel_name="python3", resources=resources).execute()
    figures = sum("image/png" in o.get("data", {}) for c in notebook.cells for o in c.get("outputs", []))
    return _outputs_text(notebook), figures


@pytest.mark.notebook
def test_notebook_01_runs_and_shows_the_conventions(data_env, tmp_path):
    text, figures = _execute("01_warping_spaces.ipynb", tmp_path)
    assert "ellipse -> radius [0.76159415595576" in text
    assert "round trip error:" in text
    assert figures >= 10


@pytest.mark.notebook
def test_notebook_03_runs_the_protocol_on_a_real_lfw_subset(data_env, tmp_path):
    text, figures = _execute("03_verification.ipynb", tmp_path)
    assert "200 pairs over" in text and "'detector': 'mtcnn'" in text and "'face_choice': 'centre'" in text
    assert "mobilefacenet_roi_tanh_polar.distill_pool" in text  # the zoo is evaluated by default
    assert "models: " + ", ".join(e.name for e in registry()) in text
    assert "SFace (peer, trained)" in text and "VAL@FAR=0.001" in text
    assert "fold threshold d" not in text and "threshold d" in text
    assert "30 deg:" in text and "90 deg:" in text
    # section 8: whole photos turned before detection, verified as well as upright (200 pairs: 1 point is 2 pairs)
    turned = dict(re.findall(r"photos turned (\d+) deg: ([\d.]+)% \(0 without a face", text))
    assert set(turned) == {"0", "90"} and abs(float(turned["0"]) - float(turned["90"])) <= 1.0, turned
    assert figures >= 8  # galleries of worst mistakes appear only when there are any


@pytest.mark.notebook
def test_notebook_02_shows_a_live_run_learn_beyond_its_noise_and_the_recorded_curves(data_env, tmp_path):
    text, figures = _execute("02_training.ipynb", tmp_path)
    assert "record 0 labels (identity records):" in text and "483 training images of 30 identities" in text
    found = re.search(r"held-out student-teacher cosine: ([-\d.]+) at step 0 -> ([-\d.]+) after 40 steps; "
                      r"gain ([-+\d.]+) \+- ([\d.]+)", text)
    before, after, gain, error = (float(v) for v in found.groups())
    # it learns on faces it never trained on, by more than three standard errors of the per-face gain
    assert after > before and gain > 3 * error > 0
    # LFW is shown only where its change exceeds its fold spread, and then it must not be a fall
    lfw = re.search(r"LFW \(200 pairs\): ([\d.]+) \+- ([\d.]+) -> ([\d.]+) \+- [\d.]+ %", text)
    if lfw is None:
        assert "moved by less than its fold spread" in text and "no LFW figure is shown" in text
    else:
        lfw_before, _, lfw_after = (float(v) for v in lfw.groups())
        assert lfw_after > lfw_before
    assert figures >= 5  # samples, logit curves, augmentation, the live curve, the recorded curves
