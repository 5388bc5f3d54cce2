"""CFP, Celebrities in Frontal-Profile (Sengupta et al., WACV 2016): images and the FF / FP protocols.

The official layout: ``cfp-dataset/Data/Images/<NNN>/{frontal,profile}/<nn>.jpg``,
``Data/list_name.txt`` (identity names, line k for folder k), ``Protocol/Pair_list_{F,P}.txt`` (index and
path relative to ``Protocol/``) and ``Protocol/Split/{FF,FP}/01..10/{same,diff}.txt`` (index pairs,
the first from the frontal list, the second from the frontal (FF) or profile (FP) list).
"""

from __future__ import annotations

from pathlib import Path

from .fetch import extract, fetch_file
from .lfw import Pair

PROTOCOLS = ("FF", "FP")


def cfp_root(progress: bool = True) -> Path:
    """The extracted ``cfp-dataset`` folder (fetched and extracted once)."""
    return extract(fetch_file("cfp/cfp-dataset.tgz", progress)) / "cfp-dataset"


def _pair_list(path: Path) -> dict[int, str]:
    entries = {}
    for line in path.read_text().splitlines():
        if line.strip():
            index, relative = line.split(maxsplit=1)
            # Paths are relative to Protocol/: ../Data/Images/... -> Data/Images/...
            entries[int(index)] = str(Path(relative.strip()).as_posix()).removeprefix("../")
    return entries


def read_cfp_pairs(root: str | Path, protocol: str) -> list[Pair]:
    """The 7,000 pairs of a protocol (``FF`` or ``FP``): 10 folds of 350 same then 350 different pairs."""
    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown CFP protocol {protocol!r}; choose FF or FP")
    root = Path(root)
    frontal = _pair_list(root / "Protocol" / "Pair_list_F.txt")
    second = frontal if protocol == "FF" else _pair_list(root / "Protocol" / "Pair_list_P.txt")
    pairs = []
    for fold in range(10):
        for kind in ("same", "diff"):
            path = root / "Protocol" / "Split" / protocol / f"{fold + 1:02d}" / f"{kind}.txt"
            for number, line in enumerate(path.read_text().splitlines(), start=1):
                if not line.strip():
                    continue
                try:
                    i, j = (int(v) for v in line.split(","))
                    pairs.append(Pair(frontal[i], second[j], kind == "same", fold))
                except (ValueError, KeyError) as err:
                    raise ValueError(f"{path}:{number}: bad pair {line!r} ({err})") from None
    return pairs


def cfp_pairs(protocol: str = "FP", progress: bool = True) -> list[Pair]:
    return read_cfp_pairs(cfp_root(progress), protocol)


def cfp_identities(root: str | Path) -> dict[str, str]:
    """``{folder ("001"): name}`` from ``Data/list_name.txt``."""
    names = (Path(root) / "Data" / "list_name.txt").read_text().splitlines()
    return {f"{k:03d}": name.strip() for k, name in enumerate(names, start=1) if name.strip()}
