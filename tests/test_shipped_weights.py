"""The zoo: six shipped models by stable names, the registry and results files as the one source of truth, the
documents rendered from them, lookups that cannot pick the wrong model, and every shipped model re-checked on a
fixed LFW subset (the drift test)."""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import pytest

from facelib.weights import (
    RegistryError,
    UnknownModelError,
    find_weights,
    read_registry,
    registry,
    resolve_name,
    verify_entry,
    weights_dir,
)
from facelib.zoo import blocks, card, read_lineage, read_results, weights_readme

ROOT = Path(__file__).resolve().parents[1]
REG = read_registry()
ENTRIES = list(REG.models)
IDS = [e.name for e in ENTRIES]
RESULTS = read_results()
LINEAGE = read_lineage()
POOL_LIST = weights_dir() / "training_pool_identities.txt"
SPACES = ("cartesian", "roi_tanh", "roi_tanh_circular", "roi_tanh_polar")


def test_the_zoo_is_six_named_models_one_per_space_plus_the_rotation_robust_and_teacher_initialised_rows():
    assert len(ENTRIES) == 6 and len({e.name for e in ENTRIES}) == 6
    assert all(e.name.count(".") == 1 and e.name.startswith(f"{e.model}_{e.space}.") for e in ENTRIES)
    upright = [e for e in ENTRIES if e.model == "mobilefacenet" and not e.rotation_robust]
    assert sorted(e.space for e in upright) == sorted(SPACES)
    assert [e.space for e in ENTRIES if e.rotation_robust] == ["roi_tanh_polar"]
    teacher = [e for e in ENTRIES if e.model == "sfacenet"]
    assert len(teacher) == 1 and not teacher[0].lfw_disjoint and all(e.lfw_disjoint for e in upright)


def test_the_default_is_a_persons_decision_with_a_reason_not_the_highest_score():
    assert sum(e.default for e in ENTRIES) == 1 and REG.default in REG.names()
    assert len(REG.default_reason) > 80 and "LFW-disjoint" in REG.default_reason
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert f"## {REG.release}" in changelog and f"Default model: `{REG.default}`" in changelog


@pytest.mark.parametrize("space", SPACES)
def test_model_and_space_give_that_spaces_shipped_upright_model(space):
    from facelib.embed import FaceEmbedder

    entry = find_weights("mobilefacenet", space)
    assert entry.space == space and not entry.rotation_robust and entry.model == "mobilefacenet"
    embedder = FaceEmbedder("mobilefacenet", space)
    assert embedder.name == entry.name and embedder.trained and embedder.threshold == entry.threshold


def test_a_name_alone_brings_its_architecture_and_space_and_a_file_its_own_identity(tmp_path):
    from facelib.embed import FaceEmbedder

    rot = next(e for e in ENTRIES if e.rotation_robust)
    by_name = FaceEmbedder(weights=rot.name)
    assert (by_name.model_name, by_name.space, by_name.name) == (rot.model, rot.space, rot.name)
    copy = tmp_path / "mine.safetensors"
    shutil.copy(rot.path, copy)
    assert FaceEmbedder(weights=copy).name == rot.name  # the same sha256: the shipped entry, with its threshold
    with pytest.raises(ValueError, match="contradicts"):
        FaceEmbedder("mobilefacenet", "cartesian", rot.name)


def test_an_unknown_name_lists_the_known_ones_closest_first():
    with pytest.raises(UnknownModelError) as caught:
        resolve_name("mobilefacenet_cartesain.distill_pool")
    message = str(caught.value)
    assert message.startswith("no such model 'mobilefacenet_cartesain.distill_pool'; known: "
                              "mobilefacenet_cartesian.distill_pool, ")
    assert all(e.name in message for e in ENTRIES)
    with pytest.raises(FileNotFoundError, match="weights file not found"):
        from facelib.embed import FaceEmbedder

        FaceEmbedder(weights="no/such/file.safetensors")


def test_former_names_load_for_one_release_with_a_deprecation_warning():
    for entry in ENTRIES:
        for old in entry.former_names:
            with pytest.warns(FutureWarning, match=f"now called '{entry.name}': the same weights"):
                assert resolve_name(old) is not None and resolve_name(old, warn=False).name == entry.name
        for old in entry.replaces[:2]:
            with pytest.warns(FutureWarning, match="embeddings differ"):
                assert resolve_name(old).name == entry.name
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert resolve_name(ENTRIES[0].name).name == ENTRIES[0].name  # the stable name never warns


def _write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "registry.json"
    path.write_text(json.dumps(data))
    return path


def test_the_registry_refuses_unknown_fields_escaping_paths_and_a_default_that_is_not_shipped(tmp_path):
    data = json.loads((weights_dir() / "registry.json").read_text())
    model = data["models"][0]
    cases = [({**data, "extra": 1}, "unknown field.*extra"),
             ({**data, "models": [{**model, "colour": "red"}]}, "unknown field.*colour"),
             ({**data, "models": [{**model, "file": "../../etc/passwd"}]}, "points outside"),
             ({**data, "models": [{**model, "file": "/etc/passwd"}]}, "must be a path relative"),
             ({**data, "models": [{**model, "card": "../README.md"}]}, "card .* points outside"),
             ({**data, "default": "nope"}, "the default 'nope' is not one of the models"),
             ({**data, "version": 1}, "expected a version 2 registry"),
             ({**data, "models": [model, model]}, "appear more than once")]
    for broken, message in cases:
        with pytest.raises(RegistryError, match=message):
            read_registry(_write(tmp_path, broken))


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_shipped_weights_are_intact_small_and_carded(entry):
    verify_entry(entry)
    # the MobileFaceNets stay under 5 MiB; SFace's architecture carries its 50,176 x 128 linear layer (~19 MiB)
    assert entry.path.stat().st_size < (20 if entry.model == "sfacenet" else 5) * 2**20
    assert (ROOT / entry.recipe).is_file() and entry.card_path.is_file()
    assert entry.name in (ROOT / entry.recipe).read_text()


def test_weights_holds_the_shipped_files_and_nothing_else():
    # retired segments leave the tree (git history and weights/lineage.jsonl keep them)
    on_disk = sorted(p.name for p in weights_dir().iterdir() if p.suffix in {".safetensors", ".pt", ".pth", ".bin"})
    assert on_disk == sorted(e.path.name for e in ENTRIES)


def test_configs_hold_the_zoo_recipes_and_the_base_ones_only():
    recipes = sorted(p.name for p in (ROOT / "configs").glob("*.py"))
    assert len(recipes) <= 12
    assert {f"{e.name}.py" for e in ENTRIES} <= set(recipes)


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_every_recipe_trains_what_its_entry_records(entry):
    from facelib.train.config import load_config

    config = load_config(ROOT / entry.recipe)
    assert (config.model, config.space) == (entry.model, entry.space)
    assert entry.max_rotation == pytest.approx(config.augment["max_rotation"], abs=1e-4)
    chain = [r for r in LINEAGE if r["model"] == entry.name]
    assert config.total_steps == chain[-1]["cumulative_steps"]  # the chain's steps, as one run


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_the_lineage_ends_in_the_shipped_file_and_names_the_commit_of_every_removed_one(entry):
    chain = [r for r in LINEAGE if r["model"] == entry.name]
    assert chain and chain[-1]["sha256"] == entry.sha256 and chain[-1]["file"] == entry.file
    assert chain[-1]["holdout_cosine"] == pytest.approx(entry.holdout_cosine, abs=1e-4)
    steps = 0
    for previous, record in zip([None, *chain], chain, strict=False):
        assert record["parent"] == (previous["segment"] if previous else None)
        steps += record["steps"]
        assert record["cumulative_steps"] == steps
        assert len(record["commit"]) == 40 and {"hardware", "wall_min", "precision", "lr"} <= set(record)


def test_results_hold_every_figure_of_every_model_and_peer():
    rows = {r["name"]: r for r in RESULTS["rows"]}
    assert set(IDS) <= set(rows) and any(r.get("peer") == "sface" for r in rows.values())
    for name in IDS + [n for n, r in rows.items() if r.get("peer") == "sface"]:
        row = rows[name]
        for key in ("lfw", "lfw_std", "val", "cfp_ff", "cfp_fp", "cfp_ff_all", "cfp_fp_all", "threshold",
                    "lfw_at_threshold", "rotations", "timing"):
            assert row.get(key) is not None, (name, key)
        assert row["cfp_fp_pairs"] == 1638 and row["cfp_ff_pairs"] == 1661  # the identity-clean pairs
        assert row["holdout"]["identities"] == 30 and row["threshold_far"] <= RESULTS["far"]
    for entry in ENTRIES:  # the registry's threshold is the held-out one, never LFW's
        assert entry.threshold == pytest.approx(rows[entry.name]["threshold"], abs=1e-4)
        assert "held-out pool identities" in entry.threshold_rule


def test_every_document_is_what_the_data_renders():
    rendered = blocks(REG, RESULTS, LINEAGE)
    for document, tags in ((ROOT / "README.md", ("zoo-table", "zoo-default")),
                           (ROOT / "docs" / "findings.md", ("zoo-chains",))):
        text = document.read_text()
        for tag in tags:
            assert f"<!-- {tag}:start -->\n{rendered[tag]}\n<!-- {tag}:end -->" in text, (document.name, tag)
    assert (weights_dir() / "README.md").read_text() == weights_readme(REG, RESULTS, LINEAGE)
    for entry in ENTRIES:
        assert entry.card_path.read_text() == card(entry, REG, RESULTS, LINEAGE), entry.card


def test_the_readme_is_a_product_page():
    text = (ROOT / "README.md").read_text()
    assert len(text.splitlines()) < 250
    assert "make notebooks" in text and "make test" in text and "facelib verify" in text
    assert "docs/findings.md" in text and "docs/rotation.png" in text


def test_the_models_command_lists_the_zoo(capsys):
    from facelib.cli import main

    assert main(["models"]) == 0
    out = capsys.readouterr().out.splitlines()
    rows = [line for line in out if line.split(" ")[0] in IDS]
    assert [line.split()[0] for line in rows] == IDS
    assert sum(line.split()[-2] == "*" for line in rows) == 1  # the default mark, beside LFW-disjoint
    assert all(line.split()[-1] in ("yes", "no") for line in rows)


# The drift check embeds ~1,100 faces per model (~15 s on two cores): every shipped model, every CI run.
@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_shipped_model_reads_its_recorded_lfw_subset_accuracy(data_env, entry):
    from facelib.detect import BENCHMARK_DETECTOR
    from facelib.embed import FaceEmbedder
    from facelib.verification import load_benchmark, prepare, run

    bench = load_benchmark("lfw", 600, progress=False)
    pack, path = prepare(bench, BENCHMARK_DETECTOR, progress=False)
    result, _ = run(bench, pack, path, FaceEmbedder(weights=entry.name, precision=entry.precision))
    assert abs(100 * result.accuracy - entry.subset_accuracy) <= 1.5, (result.accuracy, entry.subset_accuracy)


def test_training_identities_are_disjoint_from_lfw_people(data_env):
    from facelib.data.lfw import lfw_people

    lines = POOL_LIST.read_text().splitlines()
    names = {" ".join(line.split(" ")[1:]).lower() for line in lines if line.startswith("cfp/")}
    lfw = {name.replace("_", " ").lower() for name in lfw_people(progress=False)}
    assert len(lines) == 663 and len(names) == 324
    assert not names & lfw
    assert "lebron james" in lfw and "lebron james" not in names  # a case variant is still excluded
    assert {line.split("/")[0] for line in lines} <= {"celeba299", "cfp", "orl"}


def test_the_clean_cfp_pairs_hold_no_pool_identity(data_env):
    from facelib.verification import cfp_folder, clean_pairs, load_benchmark, pool_cfp_folders

    pool = pool_cfp_folders()
    assert len(pool) == 324
    listed = {line.split()[0].split("/")[1] for line in POOL_LIST.read_text().splitlines() if line.startswith("cfp/")}
    assert listed == pool
    bench = load_benchmark("cfp-fp", progress=False)
    mask = clean_pairs(bench, pool)
    kept = [p for p, keep in zip(bench.pairs, mask, strict=True) if keep]
    assert len(kept) == 1638 and {p.fold for p in kept} == set(range(10))
    assert not {cfp_folder(k) for p in kept for k in (p.a, p.b)} & pool
    assert len({cfp_folder(k) for p in bench.pairs for k in (p.a, p.b)} - pool) == 176


def test_shipping_refuses_an_unasked_replacement_and_a_successor_inside_the_noise(repo_script, tmp_path):
    ship_model = repo_script("scripts/ship_model.py")
    shipped = ENTRIES[0]
    with pytest.raises(SystemExit, match=f"{shipped.name} is already shipped.*--replace"):
        ship_model.main([str(tmp_path / "run"), "--name", shipped.name])
    with pytest.raises(SystemExit, match="must read architecture_space.recipe"):
        ship_model.main([str(tmp_path / "run"), "--name", "mobilefacenet_cartesian_warm28"])
    with pytest.raises(SystemExit, match="no summary.json"):  # asked to replace, it reaches the run and finds none
        ship_model.main([str(tmp_path / "run"), "--name", shipped.name, "--replace"])
    with pytest.raises(SystemExit, match=r"by \+0.0010, not more than the noise 0.002"):
        ship_model.may_replace(shipped, shipped.holdout_cosine + 0.001)
    ship_model.may_replace(shipped, shipped.holdout_cosine + 0.003)  # a clear gain passes


def test_registry_lookups_use_every_shipped_name():
    assert [e.name for e in registry()] == IDS
    assert find_weights(name="no_such_model") is None
    assert find_weights().name == REG.default


def test_rendered_documents_are_written_atomically(tmp_path, monkeypatch):
    """Every file that rendering writes goes through a temporary file renamed into place: a kill mid-write leaves
    the old document, never half of a new one."""
    import facelib.zoo as zoo

    root = tmp_path / "repo"
    (root / "docs").mkdir(parents=True)
    for name in ("README.md", "docs/findings.md"):
        shutil.copy(ROOT / name, root / name)
    weights = tmp_path / "weights"
    shutil.copytree(weights_dir(), weights, ignore=shutil.ignore_patterns("*.safetensors"))
    monkeypatch.setenv("FACELIB_WEIGHTS_DIR", str(weights))
    direct = []
    real_text, real_bytes = Path.write_text, Path.write_bytes

    def spy_text(self, *args, **kwargs):
        if ".pid" not in self.name:  # not a temporary file of atomic_path
            direct.append(self)
        return real_text(self, *args, **kwargs)

    def spy_bytes(self, *args, **kwargs):
        if ".pid" not in self.name:
            direct.append(self)
        return real_bytes(self, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", spy_text)
    monkeypatch.setattr(Path, "write_bytes", spy_bytes)
    written = zoo.write_docs(root)
    assert len(written) >= 9 and direct == []
    assert not [p for p in (*root.rglob("*"), *weights.rglob("*")) if ".pid" in p.name]
