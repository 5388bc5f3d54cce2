"""LFW and CFP protocol files, identity folders and the LFW-disjoint training pool, on the real data."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from facelib.data import cfp, folders, lfw


def test_lfw_view2_has_ten_folds_of_300_same_and_300_different(data_env):
    pairs = lfw.lfw_pairs("view2", progress=False)
    assert len(pairs) == 6000
    assert Counter((p.fold, p.same) for p in pairs) == {(f, s): 300 for f in range(10) for s in (True, False)}
    # The protocol's order: each fold is 300 same then 300 different pairs.
    assert all(p.same == (k % 600 < 300) for k, p in enumerate(pairs))
    assert pairs[0] == lfw.Pair("Abel_Pacheco/Abel_Pacheco_0001.jpg", "Abel_Pacheco/Abel_Pacheco_0004.jpg", True, 0)
    keys = {key for p in pairs for key in (p.a, p.b)}
    assert len(keys) == 7701  # as the mirror's README states
    root = lfw.lfw_root(progress=False)
    assert all((root / key).is_file() for key in keys)


def test_lfw_view1_and_people_folds(data_env):
    train, test = lfw.lfw_pairs("dev-train", progress=False), lfw.lfw_pairs("dev-test", progress=False)
    assert (len(train), sum(p.same for p in train)) == (2200, 1100)
    assert (len(test), sum(p.same for p in test)) == (1000, 500)
    people = lfw.lfw_people(progress=False)
    assert len(people) == 5749 and len(set(people)) == 5749
    with pytest.raises(ValueError, match="unknown LFW view"):
        lfw.lfw_pairs("view3")


def test_bad_pairs_files_are_reported_with_their_line(tmp_path):
    path = tmp_path / "pairs.txt"
    path.write_text("1\t1\nA\t1\t2\nB\t1\tC\t2\n")
    assert [p.same for p in lfw.read_pairs(path)] == [True, False]
    path.write_text("1\t1\nA\t1\nB\t1\tC\t2\n")
    with pytest.raises(ValueError, match=r"pairs.txt:2: expected"):
        lfw.read_pairs(path)
    path.write_text("1\t1\nB\t1\tC\t2\nA\t1\t2\n")
    with pytest.raises(ValueError, match=r"pairs.txt:2: a different-person pair"):
        lfw.read_pairs(path)
    path.write_text("1\t2\nA\t1\t2\n")
    with pytest.raises(ValueError, match="promises 4 pairs"):
        lfw.read_pairs(path)


@pytest.mark.parametrize("protocol", ["FF", "FP"])
def test_cfp_protocols_have_ten_folds_of_350_and_350(data_env, protocol):
    pairs = cfp.cfp_pairs(protocol, progress=False)
    assert len(pairs) == 7000
    assert Counter((p.fold, p.same) for p in pairs) == {(f, s): 350 for f in range(10) for s in (True, False)}
    root = cfp.cfp_root(progress=False)
    assert all((root / p.a).is_file() and (root / p.b).is_file() for p in pairs[:50])
    assert all("/frontal/" in p.a for p in pairs)
    assert all(("/profile/" in p.b) == (protocol == "FP") for p in pairs)
    for p in pairs[:350]:  # same pairs share the identity folder
        assert p.a.split("/")[2] == p.b.split("/")[2]
    with pytest.raises(ValueError, match="unknown CFP protocol"):
        cfp.read_cfp_pairs(root, "PP")


def test_training_pool_is_disjoint_from_lfw_and_reports_what_it_left_out(data_env):
    pool = folders.training_pool(lfw.lfw_people(progress=False), progress=False)
    names = cfp.cfp_identities(cfp.cfp_root(progress=False))
    lfw_names = {n.lower() for n in lfw.lfw_people(progress=False)}
    kept_cfp = {s.identity.split("/")[1] for s in pool.samples if s.identity.startswith("cfp/")}
    assert not any(names[f].replace(" ", "_").lower() in lfw_names for f in kept_cfp)
    excluded = next(iter(pool.excluded.values()))
    # 172 names match an LFW folder exactly; 4 more differ only in letter case (LeBron James, ...).
    assert len(excluded) == 176 and "cfp/006 Adam Sandler" in excluded
    sources = Counter(identity.split("/")[0] for identity in pool.identities)
    assert sources == {"celeba299": 299, "cfp": 500 - 176, "orl": 40}
    assert len(pool.samples) > 10_000 and len(pool.labels()) == len(pool.samples)
    assert "excluded 176 identities" in pool.report()


def test_identity_folders(tmp_path):
    for person, count in (("ann", 3), ("bob", 1)):
        (tmp_path / person).mkdir()
        for k in range(count):
            (tmp_path / person / f"{k}.jpg").write_bytes(b"")
    (tmp_path / "ann" / "notes.txt").write_text("not an image")
    samples = folders.identity_folders(tmp_path, "x")
    assert Counter(s.identity for s in samples) == {"x/ann": 3, "x/bob": 1}
    assert len(folders.identity_folders(tmp_path, "x", min_images=2)) == 3
    with pytest.raises(FileNotFoundError, match="identity folder root not found"):
        folders.identity_folders(tmp_path / "missing", "x")


def test_a_spread_of_the_pool_takes_every_kth_identity_and_caps_its_images():
    from facelib.data.folders import Pool, Sample

    samples = [Sample(Path(f"/p/{source}{i}/{k}.jpg"), f"{source}/{i}") for source in ("a", "b", "c")
               for i in range(10) for k in range(5)]
    pool = Pool(samples, sorted({s.identity for s in samples}))
    subset = pool.spread(6, 2)
    identities = sorted({s.identity for s in subset})
    assert len(identities) == 6 and {i.split("/")[0] for i in identities} == {"a", "b", "c"}  # every source
    assert all(sum(s.identity == i for s in subset) == 2 for i in identities)
    with pytest.raises(ValueError, match="per_identity"):
        pool.spread(3, 0)
