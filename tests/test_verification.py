"""The verification pipeline on a real LFW subset: aligned pack, cached embeddings, peers, rotation, CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from facelib import cli
from facelib import verification as V
from facelib.data.pack import load_pack
from facelib.embed import FaceEmbedder
from facelib.models import InputSpec, round_trip
from facelib.peers import SFaceEmbedder


@pytest.fixture(scope="module")
def lfw_subset(data_env):
    bench = V.load_benchmark("lfw", pairs=100, progress=False)
    pack, path = V.prepare(bench, progress=False)
    return bench, pack, path


def test_subset_keeps_every_fold_balanced(data_env):
    bench = V.load_benchmark("lfw", pairs=100, progress=False)
    assert len(bench.pairs) == 100
    assert all(sum(p.fold == f and p.same == s for p in bench.pairs) == 5 for f in range(10) for s in (True, False))
    with pytest.raises(ValueError, match="multiple of 20"):
        V.subset(bench.pairs, 30)


def test_prepare_aligns_every_image_once_and_reports(lfw_subset, monkeypatch):
    bench, pack, path = lfw_subset
    assert pack.keys == bench.keys() and pack.faces.shape == (len(bench.keys()), 112, 112, 3)
    report = json.loads(path.with_suffix(".json").read_text())
    assert report["images"] == len(pack.keys) == report["detected"] + report["fallback"]
    assert report["detector"] == "mtcnn" and report["detected"] >= 0.98 * report["images"]
    assert report["face_choice"] == "centre" and report["format"] == 2
    assert set(pack.status) <= {"detected", "fallback"}
    # A second prepare reads the cache: no detector is even built.
    monkeypatch.setattr("facelib.detect.create_detector", lambda *a, **k: pytest.fail("re-detected"))
    again, _ = V.prepare(bench, progress=False)
    assert again.keys == pack.keys and np.array_equal(again.faces, pack.faces)  # lossless: the same faces


def test_a_damaged_or_old_pack_is_rebuilt_and_a_damaged_cache_recomputed(data_env, tmp_path, monkeypatch, caplog):
    from facelib.data.pack import PackError

    monkeypatch.setenv("FACELIB_DATA_DIR", str(tmp_path))
    bench = V.load_benchmark("lfw", pairs=20, progress=False)
    pack, path = V.prepare(bench, progress=False)
    path.write_bytes(path.read_bytes()[:5000])  # truncated by a crash or a full disk
    with pytest.raises(PackError, match=str(path)):
        load_pack(path)
    rebuilt, _ = V.prepare(bench, progress=False)
    assert np.array_equal(rebuilt.faces, pack.faces) and "rebuilding the aligned pack" in caplog.text
    embedder = SFaceEmbedder(flip=False)
    first = V.embeddings_for(rebuilt, path, embedder)
    cache = next((tmp_path / "embeddings").rglob("*.npy"))
    cache.write_bytes(b"\x93NUMPY garbage")
    assert np.array_equal(V.embeddings_for(rebuilt, path, embedder), first)
    assert "recomputing the damaged embedding cache" in caplog.text


def _swap_two_faces(path):
    """Rewrite a pack's npz with the PNGs of its first two faces exchanged (keys, digests and the rest unchanged)."""
    import io

    with np.load(path, allow_pickle=False) as data:
        arrays = {name: data[name] for name in data.files}
    blob, offsets = arrays["png"], arrays["offsets"]
    pngs = [blob[offsets[k]:offsets[k + 1]] for k in range(len(offsets) - 1)]
    pngs[0], pngs[1] = pngs[1], pngs[0]
    arrays["png"], arrays["offsets"] = np.concatenate(pngs), np.cumsum([0] + [len(x) for x in pngs])
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    path.write_bytes(buffer.getvalue())
    return arrays


def test_a_changed_pack_never_reads_another_packs_embeddings_and_swapped_faces_are_named(data_env, tmp_path,
                                                                                       monkeypatch):
    from facelib.data.pack import PackError

    monkeypatch.setenv("FACELIB_DATA_DIR", str(tmp_path))
    bench = V.load_benchmark("lfw", pairs=20, progress=False)
    pack, path = V.prepare(bench, progress=False)
    original = path.read_bytes()
    arrays = _swap_two_faces(path)
    with pytest.raises(PackError, match=f"2 stored faces do not match their digests .*{pack.keys[0]}"):
        load_pack(path)
    # the same swap with the digests stripped (a pack from before per-face digests): loads, but never shares caches
    del arrays["digests"]
    with open(path, "wb") as f:
        np.savez(f, **arrays)
    swapped = load_pack(path)
    assert swapped.digest != pack.digest and np.array_equal(swapped.faces[0], pack.faces[1])
    embedder = SFaceEmbedder(flip=False)
    before = V.embeddings_for(pack, path, embedder)
    after = V.embeddings_for(swapped, path, embedder)
    assert np.allclose(after[0], before[1], atol=1e-5) and not np.allclose(after[0], before[0], atol=1e-3)
    path.write_bytes(original)  # restored: its own embeddings again, not the swapped pack's
    assert np.array_equal(V.embeddings_for(load_pack(path), path, embedder), before)


def test_fallback_is_counted_and_never_silent(data_env, tmp_path):
    from facelib.data.pack import build_pack, save_pack

    class Blind:
        name = "blind"

        def detect(self, image):
            from facelib.detect import Detections
            return Detections.empty()

    bench = V.load_benchmark("lfw", pairs=20, progress=False)
    keys = bench.keys()[:3]
    pack = build_pack(keys, bench.root, Blind(), bench.fallback_box, progress=False, name="blind")
    assert pack.report["fallback"] == 3 and pack.report["fallback_images"] == keys
    assert (pack.status == "fallback").all() and pack.faces.mean() > 20  # a face crop, not a black image
    loaded = load_pack(save_pack(pack, tmp_path / "blind.npz"))
    assert loaded.report["fallback"] == 3
    with pytest.raises(ValueError, match="not a facelib aligned pack"):
        (tmp_path / "broken.npz").write_bytes(b"nope")
        load_pack(tmp_path / "broken.npz")


def test_facelib_and_peer_models_run_through_the_same_pipeline(lfw_subset):
    bench, pack, path = lfw_subset
    random_init, _ = V.run(bench, pack, path, FaceEmbedder("iresnet18", "roi_tanh_polar", flip=False))
    assert random_init.pairs == 100 and 0.4 < random_init.accuracy < 0.9
    sface, distances = V.run(bench, pack, path, SFaceEmbedder())
    # A trained peer model separates LFW pairs almost perfectly even on this small subset.
    assert sface.accuracy > 0.9 and sface.accuracy > random_init.accuracy
    assert distances.shape == (100,)


def test_embeddings_are_cached_by_weights_space_and_rotation(lfw_subset, monkeypatch):
    bench, pack, path = lfw_subset
    embedder = FaceEmbedder("mobilefacenet", "cartesian")
    first = V.embeddings_for(pack, path, embedder)
    monkeypatch.setattr(embedder, "embed_faces", lambda faces: pytest.fail("not cached"))
    assert np.array_equal(V.embeddings_for(pack, path, embedder), first)
    other = FaceEmbedder("mobilefacenet", "roi_tanh")
    assert other.key != embedder.key
    assert np.array_equal(pack.faces_for([pack.keys[3], pack.keys[1]]), pack.faces[[3, 1]])
    with pytest.raises(KeyError, match="Nobody_0001.jpg"):
        pack.rows_for(["Nobody/Nobody_0001.jpg"])
    rotated = V.rotate_faces(pack.faces[:2], 90)
    assert np.array_equal(rotated[0], np.rot90(pack.faces[0]))


def test_face_embedder_is_the_pipelines_embedder_and_the_old_names_still_work(lfw_subset):
    import facelib.benchmark

    bench, pack, path = lfw_subset
    assert facelib.benchmark is V  # the former module name is the same module
    # The cache keys of earlier releases (model-space-weights-flip), so that existing caches stay valid.
    shipped = FaceEmbedder("mobilefacenet", "cartesian", flip=False)
    assert shipped.key == f"mobilefacenet-cartesian-{shipped.entry.sha256[:16]}-noflip"
    embedder = FaceEmbedder("iresnet18", "roi_tanh", flip=False)
    assert embedder.key == "iresnet18-roi_tanh-random-seed0-noflip"
    assert V.facelib_embedder("iresnet18", "roi_tanh", flip=False).key == embedder.key
    assert V.FacelibEmbedder(embedder) is embedder
    faces = embedder.embed_faces(pack.faces[:3])
    assert faces.dtype == np.float32 and faces.shape == (3, 512)
    # The seeded random initialisation is reproducible, so its embeddings may be cached.
    torch.manual_seed(123)  # ... whatever the global seed
    assert np.allclose(FaceEmbedder("iresnet18", "roi_tanh", flip=False).embed_faces(pack.faces[:3]), faces)
    # A model in training is evaluated but never cached: its weights change.
    in_memory = FaceEmbedder.from_module(shipped.net, "mobilefacenet", "cartesian", flip=False)
    assert in_memory.key is None
    result, _ = V.run(bench, pack, path, in_memory)
    assert result.pairs == len(bench.pairs) and "model in memory" in result.name
    assert not list((path.parent.parent / "embeddings").glob(f"{path.stem}*/None*"))


def test_cli_evaluate_writes_table_curves_and_json(lfw_subset, tmp_path, capsys):
    code = cli.main(["evaluate", "--benchmark", "lfw", "--pairs", "100", "--model", "iresnet18", "--space",
                     "roi_tanh_polar", "--rotations", "0", "45", "--no-flip", "--output", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0 and "accuracy" in out and "VAL@FAR=0.001" in out and "random initialisation" in out
    stem = "lfw-mtcnn-iresnet18-roi_tanh_polar-random-seed0-noflip"
    for suffix in ("-roc.png", "-distances.png", "-rotation.png", ".json"):
        assert (tmp_path / f"{stem}{suffix}").is_file(), suffix
    data = json.loads((tmp_path / f"{stem}.json").read_text())
    assert [r["rotation_degrees"] for r in data["results"]] == [0.0, 45.0]
    assert len(data["results"][0]["fold_thresholds_cosine"]) == 10
    # --precision picks the model's arithmetic, and the file names (and embedding caches) keep the two apart
    code = cli.main(["evaluate", "--benchmark", "lfw", "--pairs", "100", "--model", "iresnet18", "--space",
                     "roi_tanh_polar", "--no-flip", "--precision", "bf16", "--output", str(tmp_path)])
    assert code == 0 and (tmp_path / f"{stem}-bf16.json").is_file()
    bf16 = json.loads((tmp_path / f"{stem}-bf16.json").read_text())["results"][0]
    assert bf16["embedder"] == f"{data['results'][0]['embedder']}-bf16" and bf16["pairs"] == 100


def test_an_ensemble_of_the_spaces_averages_its_members_distances_from_their_caches(lfw_subset, monkeypatch):
    from facelib.evaluation import pair_distances
    from facelib.warp import SPACES
    from facelib.weights import space_picks

    bench, pack, path = lfw_subset
    ensemble = V.space_ensemble(flip=False)
    assert [m.entry.key for m in ensemble.members] == [e.key for e in space_picks()]
    assert sorted(m.space for m in ensemble.members) == sorted(SPACES)  # one upright model per space
    parts = [V.embeddings_for(pack, path, m) for m in ensemble.members]
    direct = ensemble.embed_faces(pack.faces[:4])
    for member in ensemble.members:  # cached now: the ensemble reads its members' caches and never embeds
        monkeypatch.setattr(member, "embed_faces", lambda faces: pytest.fail("not cached"))
    joint = V.embeddings_for(pack, path, ensemble)
    assert joint.shape == (len(pack.keys), sum(p.shape[1] for p in parts))
    assert np.allclose(np.linalg.norm(joint, axis=1), 1, atol=1e-5) and np.allclose(joint[:4], direct, atol=1e-5)
    a, b = pack.rows_for([p.a for p in bench.pairs]), pack.rows_for([p.b for p in bench.pairs])
    mean = np.mean([pair_distances(p[a], p[b]) for p in parts], axis=0)
    assert np.allclose(pair_distances(joint[a], joint[b]), mean, atol=1e-5)  # the members' mean distance
    result, _ = V.run(bench, pack, path, ensemble)
    assert result.accuracy > 0.9 and result.extra["embedder"] == ensemble.key
    assert result.extra["members"] == [m.key for m in ensemble.members]  # the report names what the hash hides


def test_an_ensemble_refuses_what_it_cannot_combine(lfw_subset, capsys):
    one = FaceEmbedder("iresnet18", "roi_tanh", flip=False)
    with pytest.raises(ValueError, match="at least two embedders; got 1"):
        V.EnsembleEmbedder([one])
    with pytest.raises(ValueError, match="the same embedder twice"):
        V.EnsembleEmbedder([one, one])
    in_memory = FaceEmbedder.from_module(one.net, "iresnet18", "roi_tanh", flip=False)
    with pytest.raises(ValueError, match="a model in memory: an ensemble member must embed aligned faces"):
        V.EnsembleEmbedder([one, in_memory])
    with pytest.raises(LookupError, match="no such model 'nobody'; known: "):
        V.space_ensemble(names=["nobody", "nobody2"])
    pair = V.EnsembleEmbedder([one, FaceEmbedder("iresnet18", "cartesian", flip=False)])
    with pytest.raises(ValueError, match="the same faces from 2 members"):
        pair.combine([np.zeros((3, 4)), np.zeros((2, 4))])
    assert cli.main(["evaluate", "--ensemble", "--weights", "x", "--pairs", "100"]) == 2
    assert "--ensemble names its members itself" in capsys.readouterr().err
    assert cli.main(["evaluate", "--ensemble", "nobody", "--pairs", "100"]) == 2
    assert "no such model 'nobody'; known: " in capsys.readouterr().err


def test_cli_evaluates_the_space_ensemble(lfw_subset, tmp_path, capsys):
    from facelib.weights import space_picks

    code = cli.main(["evaluate", "--ensemble", "--pairs", "100", "--no-flip", "--output", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0 and f"ensemble of {', '.join(e.key for e in space_picks())}" in out and "accuracy" in out
    (report,) = tmp_path.glob("lfw-mtcnn-ensemble-*.json")
    result = json.loads(report.read_text())["results"][0]
    assert result["accuracy"] > 0.9 and len(result["members"]) == len(space_picks())


def test_cli_precision_choices_are_the_embedders():
    import argparse

    from facelib import cli
    from facelib.embed import PRECISIONS, resolve_precision

    evaluate = next(a for a in cli.build_parser()._actions if isinstance(a, argparse._SubParsersAction)
                    ).choices["evaluate"]
    option = next(a for a in evaluate._actions if "--precision" in a.option_strings)
    assert tuple(option.choices) == PRECISIONS and option.default in PRECISIONS
    assert resolve_precision("bf16", torch.device("cpu")) == "bf16"
    with pytest.raises(ValueError, match="fp16"):
        resolve_precision("fp16", torch.device("cpu"))


# LFW photos with a bystander bigger than the subject (MTCNN): (person, photo, another photo of the person).
BYSTANDER_PHOTOS = [("Antonio_Banderas", 1, 2), ("Boris_Yeltsin", 2, 1), ("Condoleezza_Rice", 4, 1),
                    ("Colin_Farrell", 3, 1), ("Charles_Moose", 10, 1)]


def test_benchmark_packs_align_the_subject_not_the_largest_bystander(data_env):
    from facelib.data.lfw import lfw_root
    from facelib.data.pack import build_pack
    from facelib.detect import BENCHMARK_DETECTOR, create_detector
    from facelib.peers import SFaceEmbedder

    keys = [f"{name}/{name}_{n:04d}.jpg" for name, number, other in BYSTANDER_PHOTOS for n in (number, other)]
    detector, root = create_detector(BENCHMARK_DETECTOR), lfw_root(progress=False)
    centre = build_pack(keys, root, detector, V.Benchmark("lfw", [], root, "lfw").fallback_box, progress=False)
    largest = build_pack(keys, root, detector, V.Benchmark("lfw", [], root, "lfw").fallback_box, progress=False,
                         choice="largest")
    assert centre.report["choice_differs_from_largest"] == len(BYSTANDER_PHOTOS)
    assert centre.report["several_faces"] >= len(BYSTANDER_PHOTOS)
    teacher = SFaceEmbedder(flip=False)
    subject, bystander = teacher.embed_faces(centre.faces), teacher.embed_faces(largest.faces)
    for k, (name, _, _) in enumerate(BYSTANDER_PHOTOS):
        same_person = float(subject[2 * k] @ subject[2 * k + 1])
        wrong_face = float(bystander[2 * k] @ subject[2 * k + 1])
        assert same_person > 0.45 and wrong_face < 0.2, (name, same_person, wrong_face)


def test_round_trip_keeps_the_face_and_the_teacher_still_knows_it(lfw_subset):
    """The warp-ceiling measurement: faces as a model in a space sees them, restored, embedded by the teacher."""
    bench, pack, path = lfw_subset
    teacher = SFaceEmbedder(flip=False)
    cartesian = V.RoundTripEmbedder(teacher, "cartesian")
    assert cartesian.key == teacher.key and np.array_equal(cartesian.faces(pack.faces), pack.faces)
    for space in ("roi_tanh", "roi_tanh_polar", "roi_tanh_circular"):
        embedder = V.RoundTripEmbedder(teacher, space)
        assert embedder.key == f"{teacher.key}-via-{space}112-ar"
        back = embedder.faces(pack.faces)
        assert back.shape == pack.faces.shape and back.dtype == np.uint8
        error = np.abs(back.astype(np.float32) - pack.faces)
        # Inside the RoI the space samples densely and the face comes back nearly exact; off it, blurred.
        assert error[:, 30:82, 30:82].mean() < 2.5 < error[:, :10].mean()
    def accuracy(spec=None):
        return V.run(bench, pack, path, V.RoundTripEmbedder(teacher, "roi_tanh_polar", spec))[0].accuracy
    # The polar input keeps what the teacher needs; a 16x16 one does not (the measurement can tell them apart).
    full, tiny = accuracy(), accuracy(InputSpec(size=16))
    assert full > 0.95 and tiny < full - 0.05
    with pytest.raises(ValueError, match="unknown warping space 'polar'"):
        V.RoundTripEmbedder(teacher, "polar")


def test_warp_ceiling_benchmark_writes_the_teacher_per_space_beside_the_shipped_model(lfw_subset, repo_script,
                                                                                      tmp_path):
    from facelib.weights import space_picks
    from facelib.zoo import read_results

    script = repo_script("benchmarks/warp_ceiling.py")
    assert script.main(["--pairs", "100", "--spaces", "roi_tanh_polar", "--no-flip", "--output", str(tmp_path)]) == 0
    plain, polar = json.loads((tmp_path / "warp_ceiling.json").read_text())
    assert plain["space"].startswith("none") and polar["space"] == "roi_tanh_polar" and polar["pairs"] == 100
    assert polar["accuracy"] > 95 and not polar["flip"]
    picked = [e for e in space_picks() if e.space == "roi_tanh_polar"]
    lfw = {row["name"]: row["lfw"] for row in read_results()["rows"]}
    assert [(polar["student"], polar["student_lfw"])] == [(e.key, round(100 * lfw[e.key], 2)) for e in picked]
    table = (tmp_path / "warp_ceiling.md").read_text()
    assert f"| roi_tanh_polar | {polar['accuracy']:.2f} |" in table and f"`{picked[0].key}`" in table


def test_round_trip_refuses_what_it_cannot_warp():
    with pytest.raises(ValueError, match=r"faces must be \(B, 3, H, W\); got shape \(112, 112, 3\)"):
        round_trip(torch.rand(112, 112, 3), InputSpec(), "roi_tanh")
    faces = torch.rand(2, 3, 112, 112)
    assert round_trip(faces, InputSpec(), "cartesian") is faces

    class Photos:
        key, aligns_itself = "dlib", True

    with pytest.raises(ValueError, match="dlib: a peer that aligns the photos itself"):
        V.RoundTripEmbedder(Photos(), "roi_tanh")
