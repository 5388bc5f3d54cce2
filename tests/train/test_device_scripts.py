"""The lent-GPU path: the bundle that travels (lossless pool, float16 teacher cache) and the training driver's
restore and rate arithmetic, on CPU with a small real pack."""

from __future__ import annotations

import os
import shutil

import cv2
import numpy as np
import pytest
import torch

from facelib.data.recordio import write_ms1m
from facelib.train.data import FaceTrainingSet
from facelib.train.distill import VIEWS, pack_digest


def _needs_jpegtran() -> None:
    if shutil.which("jpegtran") is None:
        hint = "jpegtran is missing: apt-get install libjpeg-turbo-progs (.ci/run installs it)"
        if os.environ.get("FACELIB_REQUIRE_DATA") == "1":  # CI: never skip
            pytest.fail(hint)
        pytest.skip(hint)


@pytest.fixture
def small_pack(tmp_path, monkeypatch):
    """A 3-identity MS1M pack of JPEG faces (quality 95, like `facelib pack pool`) and its teacher cache."""
    monkeypatch.setenv("FACELIB_DATA_DIR", str(tmp_path / "cache"))
    rng = np.random.default_rng(0)
    identities = []
    for _ in range(3):
        faces = []
        for _ in range(4):
            image = cv2.GaussianBlur(rng.integers(0, 256, (112, 112, 3), dtype=np.uint8), (5, 5), 0)
            faces.append(cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 95])[1].tobytes())
        identities.append(faces)
    pack = write_ms1m(tmp_path / "pool", identities)
    return pack


def test_the_bundle_keeps_every_pixel_and_the_teacher_targets_to_float16(small_pack, tmp_path, repo_script):
    _needs_jpegtran()
    from facelib.data.fetch import data_dir
    from facelib.train.distill import create_teacher

    bundle_script = repo_script("scripts/device_bundle.py")
    key = create_teacher("sface").key
    targets = np.random.default_rng(1).normal(size=(12, VIEWS, 128)).astype(np.float32)
    targets /= np.linalg.norm(targets, axis=-1, keepdims=True)
    (data_dir() / "teachers").mkdir(parents=True)
    np.save(data_dir() / "teachers" / f"{pack_digest(small_pack)}-{key}.npy", targets)

    bundle_script.main([str(small_pack), str(tmp_path / "bundle")])
    before, after = FaceTrainingSet(small_pack), FaceTrainingSet(tmp_path / "bundle" / "pool")
    assert len(before) == len(after) == 12 and before.items == after.items
    for k in range(len(before)):
        assert torch.equal(before[k][0], after[k][0]), f"image {k} changed"
    assert (tmp_path / "bundle/pool/train.rec").stat().st_size < (small_pack / "train.rec").stat().st_size
    half = tmp_path / "bundle" / "teachers" / f"{pack_digest(tmp_path / 'bundle' / 'pool')}-{key}.npy"
    assert np.load(half).dtype == np.float16

    # the driver restores it to float32 under the transcoded pack's digest, where the trainer looks
    driver = repo_script("scripts/gpu_train.py")
    shutil.rmtree(data_dir() / "teachers")
    assert driver.restore_teachers(tmp_path / "bundle") == key
    restored = np.load(data_dir() / "teachers" / half.name)
    assert restored.dtype == np.float32 and np.abs(restored - targets).max() < 1e-3


def test_the_bundle_refuses_a_pack_without_a_teacher_cache(small_pack, tmp_path, repo_script):
    _needs_jpegtran()
    with pytest.raises(SystemExit, match="no teacher cache"):
        repo_script("scripts/device_bundle.py").main([str(small_pack), str(tmp_path / "bundle")])


def test_the_probe_rate_leaves_out_the_start_up(tmp_path, repo_script):
    driver = repo_script("scripts/gpu_train.py")
    run = tmp_path / "probe"
    run.mkdir()
    # 10 s of start-up, then 20 steps per second of batch 64: the cumulative rate the loop logs climbs
    history = [{"step": s, "images_per_second": s * 64 / (10 + s / 20)} for s in range(10, 310, 10)]
    torch.save({"history": history}, run / "checkpoint-rank0.pt")
    (run / "summary.json").write_text('{"images_per_second": 400.0}')
    assert driver.steady_rate(run, tmp_path / "log", 0, 64) == pytest.approx(20.0, rel=1e-6)
    with pytest.raises(SystemExit, match="probe probe failed"):
        (tmp_path / "log").write_text("Traceback: boom")
        driver.steady_rate(run, tmp_path / "log", 1, 64)


def test_loader_workers_share_the_cores_between_the_runs(repo_script):
    driver = repo_script("scripts/gpu_train.py")
    # the 16-core GPU machine: 4 each for up to three runs, fewer as more runs share it, never under 2
    assert [driver.loader_workers(n, 16) for n in (1, 2, 3, 4, 5, 6, 8)] == [4, 4, 4, 3, 2, 2, 2]
    assert driver.loader_workers(1, 2) == 2  # this 2-core machine (a dry run)


def test_packing_a_gpu_run_leaves_its_checkpoints_as_they_are(tmp_path, repo_script):
    import tarfile

    driver = repo_script("scripts/gpu_train.py")
    run = tmp_path / "runs" / "polar"
    run.mkdir(parents=True)
    torch.save({"step": 6, "model": {"w": torch.ones(3)}, "optimizer": {"state": torch.zeros(1000)}},
               run / "checkpoint-rank0.pt")
    torch.save({"step": 4, "model": {"w": torch.zeros(3)}}, run / "checkpoint-rank0.previous.pt")
    (run / "summary.json").write_text("{}")
    log = tmp_path / "polar.log"
    log.write_text("trained")
    before = {p.name: p.read_bytes() for p in run.iterdir()}
    out = tmp_path / "out"
    out.mkdir()
    driver.pack(run, log, out)
    assert {p.name: p.read_bytes() for p in run.iterdir()} == before  # the run folder is untouched
    with tarfile.open(out / "polar.tar.gz") as tar:
        names = sorted(tar.getnames())
        slim = torch.load(tar.extractfile("polar/checkpoint-rank0.pt"), weights_only=True)
    assert "polar/checkpoint-rank0.previous.pt" not in names and "polar/train.log" in names
    assert slim["step"] == 6 and "optimizer" not in slim and torch.equal(slim["model"]["w"], torch.ones(3))
    assert sorted(p.name for p in out.iterdir()) == ["polar.tar.gz"]
