"""facelib.embed, facelib.weights, facelib.compat and the `facelib verify` command."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from facelib import cli
from facelib.compat import FaceEmbeddingPredictor, crop_face, norm_crop
from facelib.data.images import load_image
from facelib.data.lfw import image_path
from facelib.embed import (
    ALIGNED_ROI,
    FaceEmbedder,
    NoFaceError,
    cosine_to_distance,
    distance_to_cosine,
    squared_distance,
)
from facelib.models import create_model
from facelib.warp import warp
from facelib.weights import find_weights, load_weights, read_state_dict, save_weights


@pytest.fixture(scope="module")
def faces():
    generator = np.random.default_rng(0)
    return generator.integers(0, 256, (3, 112, 112, 3), dtype=np.uint8)


@pytest.mark.parametrize("model,space", [("mobilefacenet", "cartesian"), ("mobilefacenet", "roi_tanh_polar"),
                                         ("iresnet18", "roi_tanh"), ("rtnet50", "roi_tanh_polar"),
                                         ("mobilefacenet", "roi_tanh_circular")])
def test_embeddings_are_unit_length_and_follow_the_pipeline(model, space, faces):
    torch.manual_seed(0)
    embedder = FaceEmbedder(model, space)
    size = embedder.entry.embedding_size if embedder.trained else 512
    embeddings = embedder.embed(faces)
    assert embeddings.shape == (3, size) and torch.allclose(embeddings.norm(dim=1), torch.ones(3), atol=1e-5)
    # The same computation spelled out: flip, warp around the central 80%, scale to [-1, 1], sum, normalise.
    x = torch.from_numpy(faces).permute(0, 3, 1, 2).float() / 255
    views = torch.cat((x, x.flip(-1)))
    rois = torch.tensor([ALIGNED_ROI]).expand(6, 4)
    if space != "cartesian":
        views = warp(views, rois, 112, space, keep_aspect_ratio=True)
    with torch.no_grad():
        out = embedder.net(views * 2 - 1, rois) if model == "rtnet50" else embedder.net(views * 2 - 1)
    expected = torch.nn.functional.normalize(out[:3] + out[3:], dim=1)
    assert torch.allclose(embeddings, expected, atol=1e-5)
    assert embedder.trained == (find_weights(model, space) is not None)


def test_flip_test_makes_mirror_images_embed_alike(faces):
    torch.manual_seed(0)
    flipped = np.ascontiguousarray(faces[:, :, ::-1])
    with_flip = FaceEmbedder("mobilefacenet", "cartesian")
    assert torch.allclose(with_flip.embed(faces), with_flip.embed(flipped), atol=1e-5)
    without = FaceEmbedder("mobilefacenet", "cartesian", flip=False)
    assert not torch.allclose(without.embed(faces), without.embed(flipped), atol=1e-3)


def test_embedder_input_errors(faces):
    embedder = FaceEmbedder("mobilefacenet")
    with pytest.raises(ValueError, match="aligned crops"):
        embedder.embed(torch.rand(2, 3, 100, 100))
    with pytest.raises(ValueError, match="float in"):
        embedder.embed(torch.zeros(2, 3, 112, 112, dtype=torch.uint8))
    with pytest.raises(ValueError, match="empty batch"):
        embedder.embed(np.zeros((0, 112, 112, 3), np.uint8))
    with pytest.raises(ValueError, match="roi_tanh_polar faces"):
        FaceEmbedder("rtnet50", "cartesian")
    with pytest.raises(ValueError, match="unknown warping space"):
        FaceEmbedder("mobilefacenet", "polar")


def test_weights_round_trip_and_wrong_architecture_is_named(tmp_path, faces):
    torch.manual_seed(1)
    model = create_model("mobilefacenet")
    path = save_weights(model, tmp_path / "mfn.safetensors")
    assert read_state_dict(path)[1] == "mobilefacenet"
    embedder = FaceEmbedder("mobilefacenet", "roi_tanh_polar", weights=path)
    assert embedder.trained
    reference = FaceEmbedder.from_module(model.eval(), "mobilefacenet", "roi_tanh_polar")
    assert torch.allclose(embedder.embed(faces), reference.embed(faces), atol=1e-6)
    torch.save(create_model("iresnet18").state_dict(), tmp_path / "r18.pth")
    with pytest.raises(ValueError, match="holds weights for iresnet18, but the model is mobilefacenet"):
        FaceEmbedder("mobilefacenet", "cartesian", weights=tmp_path / "r18.pth")
    with pytest.raises(FileNotFoundError, match="weights file not found: .*missing.safetensors"):
        FaceEmbedder("mobilefacenet", "cartesian", weights=tmp_path / "missing.safetensors")
    with pytest.raises(ValueError, match="holds weights for mobilefacenet, but the model is iresnet18"):
        load_weights(create_model("iresnet18"), path)


def test_the_same_weights_always_save_to_the_same_bytes(tmp_path):
    from safetensors import safe_open

    torch.manual_seed(2)
    model = create_model("mobilefacenet", 128)
    metadata = {"space": "cartesian", "steps": "10", "z": "last", "a": "first"}
    files = [save_weights(model, tmp_path / f"{k}.safetensors", half=True, **metadata).read_bytes() for k in range(4)]
    assert all(f == files[0] for f in files)  # the sha256 a registry entry records is reproducible
    with safe_open(tmp_path / "0.safetensors", "pt") as f:
        assert f.metadata() == {"model": "mobilefacenet", **metadata}
        floats = {k: v for k, v in model.state_dict().items() if v.is_floating_point()}
        assert all(torch.equal(f.get_tensor(k), v.half()) for k, v in floats.items())


def test_weights_loading_never_unpickles_code(tmp_path):
    import pickle

    class Evil:
        def __reduce__(self):
            return (exec, (f"open({str(tmp_path / 'pwned')!r}, 'w').write('pwned')",))

    path = tmp_path / "evil.pth"
    path.write_bytes(pickle.dumps({"conv1.weight": Evil()}))
    with pytest.raises(ValueError, match="cannot read weights") as refused:
        read_state_dict(path)
    assert not (tmp_path / "pwned").exists()
    assert "refused" in str(refused.value) and "weights_only" not in str(refused.value)


def test_threshold_conversions():
    assert cosine_to_distance(0.5) == 1.0 and distance_to_cosine(1.0) == 0.5
    a, b = np.array([1.0, 0.0]), np.array([0.6, 0.8])
    assert squared_distance(a, b) == pytest.approx(cosine_to_distance(float(a @ b)))


def test_embed_photo_detects_aligns_and_reports(data_env):
    embedder = FaceEmbedder("mobilefacenet", "roi_tanh_polar")
    result = embedder.embed_photo(image_path("Aaron_Eckhart", 1))
    assert result.faces == 1 and result.face.shape == (112, 112, 3)
    assert np.linalg.norm(result.embedding) == pytest.approx(1.0, abs=1e-5)
    cropped = embedder.embed_photo(image_path("Aaron_Eckhart", 1), align=False)
    assert not np.allclose(cropped.face, result.face)
    with pytest.raises(NoFaceError, match="no face found"):
        embedder.embed_photo(np.full((120, 120, 3), 90, np.uint8))


def test_ibug_compatible_predictor(data_env):
    image = load_image(image_path("Aaron_Eckhart", 1))
    predictor = FaceEmbeddingPredictor("iresnet18", project_to_space="roi_tanh_polar", device="cpu")
    detections = predictor.embedder.detector.detect(image)
    aligned = norm_crop(image, detections.landmarks[0])
    embedding = predictor(aligned)
    assert embedding.shape == (512,) and np.linalg.norm(embedding) == pytest.approx(1.0, abs=1e-5)
    assert np.allclose(predictor(np.ascontiguousarray(aligned[..., ::-1]), bgr=True), embedding, atol=1e-6)
    assert crop_face(image, detections.boxes[0]).shape == (112, 112, 3)


def _lfw(name, number):
    return str(image_path(name, number))


def test_verify_runs_end_to_end_and_says_the_model_is_untrained(data_env, capsys):
    code = cli.main(["verify", _lfw("Aaron_Eckhart", 1), _lfw("George_W_Bush", 1), "--model", "iresnet18",
                     "--space", "roi_tanh", "--threshold-cosine", "0.3"])
    out = capsys.readouterr().out
    assert code == (cli.SAME_EXIT if "decision: same person" in out else cli.DIFFERENT_EXIT)
    assert "random initialisation" in out and "meaningless" in out
    assert "squared L2 distance:" in out and "threshold: 1.4000 (cosine similarity 0.3000; --threshold-cosine)" in out
    assert "decision:" in out and "not a real decision" in out


def test_verify_errors_users_will_hit(data_env, tmp_path, capsys):
    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), np.full((200, 200, 3), 128, np.uint8))
    assert cli.main(["verify", str(blank), _lfw("Aaron_Eckhart", 1), "--model", "mobilefacenet"]) == cli.NO_FACE_EXIT
    assert "blank.png: no face found in the image (200x200 px)" in capsys.readouterr().err
    tiny = tmp_path / "tiny.png"
    cv2.imwrite(str(tiny), np.full((10, 10, 3), 128, np.uint8))
    assert cli.main(["verify", str(tiny), _lfw("Aaron_Eckhart", 1), "--model", "mobilefacenet"]) == cli.NO_FACE_EXIT
    assert "(10x10 px)" in capsys.readouterr().err
    assert cli.main(["verify", str(tmp_path / "nope.jpg"), _lfw("Aaron_Eckhart", 1)]) == 2
    assert "image not found" in capsys.readouterr().err
    garbage = tmp_path / "garbage.jpg"
    garbage.write_bytes(b"not an image at all")
    assert cli.main(["verify", str(garbage), _lfw("Aaron_Eckhart", 1)]) == 2
    assert "cannot decode image" in capsys.readouterr().err


def test_verify_accepts_grayscale_rgba_and_several_faces(data_env, tmp_path, capsys):
    photo = load_image(image_path("Aaron_Eckhart", 1))
    gray, rgba = tmp_path / "gray.png", tmp_path / "rgba.png"
    cv2.imwrite(str(gray), cv2.cvtColor(photo, cv2.COLOR_RGB2GRAY))
    cv2.imwrite(str(rgba), cv2.cvtColor(photo, cv2.COLOR_RGB2BGRA))
    group = tmp_path / "group.jpg"
    canvas = np.zeros((250, 375, 3), np.uint8)
    canvas[:, :250], canvas[:125, 250:] = photo, load_image(image_path("Serena_Williams", 1))[::2, ::2]
    cv2.imwrite(str(group), cv2.cvtColor(canvas, cv2.COLOR_RGB2BGR))
    assert cli.main(["verify", str(gray), str(rgba), "--model", "mobilefacenet", "--no-flip"]) == 0
    assert cli.main(["verify", str(group), str(gray), "--model", "mobilefacenet", "--no-align"]) == 0
    out = capsys.readouterr().out
    assert "2 faces, using the largest (#" in out and "box crop" in out


def test_verify_uses_the_default_model_and_its_held_out_threshold_and_says_which(data_env, capsys):
    import facelib
    from facelib.weights import default_entry

    default = default_entry()
    assert cli.main(["verify", _lfw("George_W_Bush", 1), _lfw("George_W_Bush", 2)]) == cli.SAME_EXIT
    out = capsys.readouterr().out
    assert f"model: {default.name} ({default.model} in the {default.space} space), facelib {facelib.__version__}" in out
    assert f"threshold: {default.threshold:.4f}" in out and default.threshold_rule in out
    assert "decision: same person" in out


def test_verify_exit_status_and_json_for_scripts(data_env, tmp_path, capsys):
    import json

    from facelib.weights import default_entry

    a, b = _lfw("George_W_Bush", 1), _lfw("Serena_Williams", 1)
    assert cli.main(["verify", a, b]) == cli.DIFFERENT_EXIT
    capsys.readouterr()
    assert cli.main(["verify", a, _lfw("George_W_Bush", 2), "--json"]) == cli.SAME_EXIT
    report = json.loads(capsys.readouterr().out)  # one JSON object and nothing else
    assert report["same_person"] is True and report["model"] == default_entry().name
    assert report["distance"] < report["threshold"] == pytest.approx(default_entry().threshold, abs=1e-6)
    assert [p["faces"] for p in report["photos"]] == [1, 1] and len(report["photos"][0]["box"]) == 4
    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), np.full((200, 200, 3), 128, np.uint8))
    assert cli.main(["verify", str(blank), a, "--json"]) == cli.NO_FACE_EXIT == 3
    assert json.loads(capsys.readouterr().out)["error"] == "no face"
    for bad in (["--threshold-cosine", "5"], ["--threshold", "-3"]):
        assert cli.main(["verify", a, b, *bad]) == cli.USAGE_EXIT == 2
        assert "must be" in capsys.readouterr().err
    assert cli.main(["verify", a, b, "--device", "cuda:7"]) == 2
    assert "device 'cuda:7': this machine has" in capsys.readouterr().err
    assert cli.main(["verify", a, b, "--weights", "mobilefacenet_cartesain.distill_pool"]) == 2
    err = capsys.readouterr().err
    assert "no such model 'mobilefacenet_cartesain.distill_pool'; known: mobilefacenet_cartesian.distill_pool" in err


def test_a_weights_file_without_a_recorded_threshold_says_so(data_env, tmp_path, capsys):
    from facelib.models import create_model
    from facelib.weights import save_weights

    mine = save_weights(create_model("mobilefacenet", 128), tmp_path / "mine.safetensors", space="cartesian")
    code = cli.main(["verify", _lfw("George_W_Bush", 1), _lfw("George_W_Bush", 2), "--weights", str(mine)])
    captured = capsys.readouterr()
    assert code in (cli.SAME_EXIT, cli.DIFFERENT_EXIT)
    assert "mine.safetensors records no threshold" in captured.err and "not calibrated" in captured.err
    recorded = save_weights(create_model("mobilefacenet", 128), tmp_path / "rec.safetensors", space="cartesian",
                            threshold="1.25")
    cli.main(["verify", _lfw("George_W_Bush", 1), _lfw("George_W_Bush", 2), "--weights", str(recorded)])
    captured = capsys.readouterr()
    assert "threshold: 1.2500" in captured.out and "the weights file's metadata" in captured.out
    assert "records no threshold" not in captured.err


def test_damaged_weight_files_are_a_message(data_env, tmp_path, capsys):
    damaged = tmp_path / "model.safetensors"
    damaged.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json")
    assert cli.main(["verify", _lfw("Aaron_Eckhart", 1), _lfw("Aaron_Eckhart", 1), "--model", "mobilefacenet",
                     "--space", "cartesian", "--weights", str(damaged)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "model.safetensors" in err
    assert cli.main(["verify", str(tmp_path), _lfw("Aaron_Eckhart", 1)]) == 2
    assert "is a directory, not an image file" in capsys.readouterr().err


def test_prepare_folder_uses_the_default_detector_when_none_is_given(data_env, tmp_path, capsys):
    from facelib.data.pack import load_pack

    for name in ("Aaron_Eckhart", "Serena_Williams"):
        (tmp_path / "faces" / name).mkdir(parents=True)
        (tmp_path / "faces" / name / "1.jpg").write_bytes(image_path(name, 1).read_bytes())
    out = tmp_path / "pack.npz"
    assert cli.main(["prepare", "folder", str(tmp_path / "faces"), "--output", str(out)]) == 0
    assert '"detector": "yunet"' in capsys.readouterr().out
    assert load_pack(out).report["detected"] == 2


def test_an_error_during_a_progress_bar_starts_on_its_own_line(monkeypatch, capsys):
    from tqdm.auto import tqdm

    def failing_fetch(args):
        bar = tqdm(total=10, desc="downloading lfw")
        bar.update(3)
        raise ValueError("the mirror went away")

    monkeypatch.setattr(cli, "_fetch", failing_fetch)
    assert cli.main(["fetch", "lfw"]) == 2
    err = capsys.readouterr().err
    lines = err.replace("\r", "\n").splitlines()
    assert "facelib fetch: the mirror went away" in lines  # a whole line, not glued to the bar
