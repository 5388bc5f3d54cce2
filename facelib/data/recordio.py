"""MXNet RecordIO (``.rec`` + ``.idx``), the layout of insightface's MS1M training sets, without mxnet.

mxnet is retired and pins an old NumPy API, so this module reads and writes the format itself, byte
for byte as dmlc-core's ``RecordIOWriter`` / ``RecordIOReader`` do (checked against mxnet's own
writer by golden fixtures in the tests):

* a record is ``magic (0xced7230a, uint32 LE)``, ``lrec (uint32 LE)`` with the continuation flag in
  its top 3 bits and the length in the low 29, the payload, then zero padding to 4 bytes;
* a payload that contains the magic number at a 4-byte aligned offset is split there: the parts are
  written as records with flags 1 (first), 2 (middle), 3 (last), the magic itself dropped, and the
  reader puts it back between the parts;
* ``.idx`` is text, ``key<TAB>byte offset`` per line.

An image record's payload is mxnet's ``IRHeader`` (``flag uint32, label float32, id uint64, id2
uint64``; when ``flag > 0`` it is followed by ``flag`` float32 labels) and the encoded image. The MS1M
layout (``train.rec``, ``train.idx``, ``property``) has a header record 0 whose labels give the range
of identity records, and each identity record's labels give the range of that identity's images.
"""

from __future__ import annotations

import os
import struct
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._atomic import atomic_path, default_permissions

MAGIC = 0xCED7230A
_MAGIC_BYTES = struct.pack("<I", MAGIC)
_LENGTH_MASK = (1 << 29) - 1
_HEADER = struct.Struct("<IfQQ")


class RecordError(ValueError):
    """A corrupt, truncated or inconsistent record; the message names the file, key and offset."""


def _lrec(flag: int, length: int) -> bytes:
    if length > _LENGTH_MASK:
        raise ValueError(f"a record part is limited to {_LENGTH_MASK} bytes; got {length}")
    return struct.pack("<I", (flag << 29) | length)


def encode_record(payload: bytes) -> bytes:
    """The bytes dmlc-core writes for one payload (split at aligned magic numbers, padded)."""
    out, start = [], 0
    aligned_end = (len(payload) >> 2) << 2
    for i in range(0, aligned_end, 4):
        if payload[i:i + 4] == _MAGIC_BYTES:
            out += [_MAGIC_BYTES, _lrec(1 if start == 0 else 2, i - start), payload[start:i]]
            start = i + 4
    out += [_MAGIC_BYTES, _lrec(3 if start else 0, len(payload) - start), payload[start:]]
    out.append(b"\0" * ((-len(payload)) % 4))
    return b"".join(out)


class RecordWriter:
    """Write ``.rec`` and ``.idx`` together, atomically: both appear when :meth:`close` succeeds."""

    def __init__(self, rec_path: str | Path, idx_path: str | Path) -> None:
        self.rec_path, self.idx_path = Path(rec_path), Path(idx_path)
        self.rec_path.parent.mkdir(parents=True, exist_ok=True)
        handle, self._rec_tmp = tempfile.mkstemp(prefix=self.rec_path.name + ".", suffix=".tmp",
                                                 dir=self.rec_path.parent)
        self._rec = os.fdopen(handle, "wb")
        self._index: list[tuple[int, int]] = []

    def write(self, key: int, payload: bytes) -> None:
        self._index.append((int(key), self._rec.tell()))
        self._rec.write(encode_record(payload))

    def close(self) -> None:
        self._rec.close()
        default_permissions(self._rec_tmp)
        os.replace(self._rec_tmp, self.rec_path)
        with atomic_path(self.idx_path) as tmp:
            tmp.write_text("".join(f"{key}\t{offset}\n" for key, offset in self._index))

    def abort(self) -> None:
        self._rec.close()
        if os.path.exists(self._rec_tmp):
            os.unlink(self._rec_tmp)

    def __enter__(self) -> RecordWriter:
        return self

    def __exit__(self, kind, value, traceback) -> None:
        if kind is None:
            self.close()
        else:
            self.abort()


class RecordReader:
    """Random access to a ``.rec`` through its ``.idx``. ``read(key)`` returns the payload bytes."""

    def __init__(self, rec_path: str | Path, idx_path: str | Path) -> None:
        self.rec_path, self.idx_path = Path(rec_path), Path(idx_path)
        for path in (self.rec_path, self.idx_path):
            if not path.is_file():
                raise FileNotFoundError(f"RecordIO file not found: {path}")
        self.size = self.rec_path.stat().st_size
        self.offsets: dict[int, int] = {}
        for number, line in enumerate(self.idx_path.read_text().splitlines(), start=1):
            if not line.strip():
                continue
            try:
                key, offset = line.split("\t")
                self.offsets[int(key)] = int(offset)
            except ValueError:
                raise RecordError(f"{self.idx_path}:{number}: expected 'key<TAB>offset', got {line!r}") from None
            if not 0 <= self.offsets[int(key)] < self.size:
                raise RecordError(f"{self.idx_path}:{number}: offset {offset} is outside {self.rec_path} "
                                  f"({self.size} bytes): the .idx does not belong to this .rec")
        self._file, self._pid = None, None

    def _handle(self):
        # One file handle per process: DataLoader workers forked from the parent would otherwise share
        # its handle and its position, and interleave their seeks and reads.
        if self._file is None or self._pid != os.getpid():
            self._file, self._pid = open(self.rec_path, "rb"), os.getpid()  # noqa: SIM115 - closed by close()
        return self._file

    def keys(self) -> list[int]:
        return list(self.offsets)

    def read(self, key: int) -> bytes:
        if key not in self.offsets:
            raise KeyError(f"record {key} is not in {self.idx_path}")
        offset = self.offsets[key]
        file = self._handle()
        file.seek(offset)
        parts, position = [], offset
        while True:
            header = file.read(8)
            if len(header) < 8:
                raise RecordError(f"{self.rec_path}: record {key} at byte {offset} is truncated (header at {position})")
            magic, lrec = struct.unpack("<II", header)
            if magic != MAGIC:
                raise RecordError(f"{self.rec_path}: record {key} at byte {offset}: no RecordIO magic at byte "
                                  f"{position} (the .idx may not match the .rec, or the file is corrupt)")
            flag, length = lrec >> 29, lrec & _LENGTH_MASK
            expected = (0, 1) if not parts else (2, 3)
            if flag not in expected:
                raise RecordError(f"{self.rec_path}: record {key} at byte {offset}: continuation flag {flag} where "
                                  f"{' or '.join(map(str, expected))} was expected")
            data = file.read(length)
            if len(data) < length:
                raise RecordError(f"{self.rec_path}: record {key} at byte {offset} is truncated: {len(data)} of "
                                  f"{length} bytes")
            file.read((-length) % 4)
            position += 8 + length + (-length) % 4
            parts.append(data)
            if flag in (0, 3):
                return _MAGIC_BYTES.join(parts)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self) -> RecordReader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __getstate__(self):  # spawned DataLoader workers open their own handle
        return {**self.__dict__, "_file": None, "_pid": None}


@dataclass(frozen=True)
class ImageHeader:
    """mxnet's ``IRHeader``: ``label`` is a float, or a tuple of floats when the record holds several."""

    flag: int
    label: float | tuple[float, ...]
    id: int
    id2: int


def pack_image_record(label: float | Sequence[float], image: bytes, id: int = 0, id2: int = 0) -> bytes:
    """``IRHeader`` + encoded image, as ``mx.recordio.pack``."""
    if isinstance(label, (int, float, np.floating, np.integer)):
        return _HEADER.pack(0, float(label), id, id2) + image
    labels = np.asarray(label, dtype=np.float32)
    return _HEADER.pack(len(labels), 0.0, id, id2) + labels.tobytes() + image


def unpack_image_record(payload: bytes) -> tuple[ImageHeader, bytes]:
    """Inverse of :func:`pack_image_record` (``mx.recordio.unpack``)."""
    if len(payload) < _HEADER.size:
        raise RecordError(f"record of {len(payload)} bytes is shorter than an IRHeader ({_HEADER.size})")
    flag, label, id_, id2 = _HEADER.unpack_from(payload)
    body = payload[_HEADER.size:]
    if flag > 0:
        if len(body) < 4 * flag:
            raise RecordError(f"IRHeader promises {flag} labels but the record ends after {len(body) // 4}")
        labels = tuple(float(v) for v in np.frombuffer(body[:4 * flag], dtype=np.float32))
        return ImageHeader(flag, labels, id_, id2), body[4 * flag:]
    return ImageHeader(flag, label, id_, id2), body


def write_ms1m(folder: str | Path, identities: Iterable[Sequence[bytes]], image_size: tuple[int, int] = (112, 112)
               ) -> Path:
    """Write an MS1M-layout pack (``train.rec``, ``train.idx``, ``property``) from encoded images grouped by
    identity: identity ``k`` (0-based) gets label ``k``. Returns the folder.

    Layout as insightface's: record 0's labels are ``(first identity record, end)``; images take keys
    ``1 .. N``; identity record ``N + 1 + k`` has labels ``(first image key, end)`` of identity ``k``.
    """
    folder = Path(folder)
    groups = [list(images) for images in identities]
    if not groups or not all(groups):
        raise ValueError("every identity needs at least one image")
    total = sum(len(g) for g in groups)
    with RecordWriter(folder / "train.rec", folder / "train.idx") as writer:
        first_identity = total + 1
        writer.write(0, pack_image_record((first_identity, first_identity + len(groups)), b""))
        key, ranges = 1, []
        for label, images in enumerate(groups):
            ranges.append((key, key + len(images)))
            for image in images:
                writer.write(key, pack_image_record(float(label), image, id=key))
                key += 1
        for k, (start, end) in enumerate(ranges):
            writer.write(first_identity + k, pack_image_record((start, end), b""))
    with atomic_path(folder / "property") as tmp:
        tmp.write_text(f"{len(groups)},{image_size[0]},{image_size[1]}\n")
    return folder


class MS1MRecords:
    """An MS1M-layout pack: ``(image key, label)`` for every image, and its decoded images.

    ``on_error='raise'`` (default) stops at a corrupt record or undecodable image with an error that
    names it; ``'skip'`` leaves such images out of :meth:`samples` and counts them in ``skipped``.
    """

    def __init__(self, folder: str | Path, on_error: str = "raise") -> None:
        if on_error not in ("raise", "skip"):
            raise ValueError(f"on_error must be 'raise' or 'skip'; got {on_error!r}")
        self.folder = Path(folder)
        self.on_error = on_error
        self.reader = RecordReader(self.folder / "train.rec", self.folder / "train.idx")
        self.num_classes, *self.image_size = self._property()
        header, _ = unpack_image_record(self.reader.read(0))
        self.skipped: list[tuple[int, str]] = []
        if header.flag > 0:
            self._samples = self._identity_layout(header)
        else:  # a plain image list: labels from each record's header
            self._samples = []
            for key in sorted(self.reader.keys()):
                try:
                    header, _ = unpack_image_record(self.reader.read(key))
                except RecordError as err:
                    self._fail(key, err)
                    continue
                label = header.label[0] if isinstance(header.label, tuple) else header.label
                self._samples.append((key, int(label)))
        if not self._samples:
            raise RecordError(f"{self.folder}: the pack holds no images")
        classes = max(label for _, label in self._samples) + 1
        if not self.num_classes and header.flag <= 0:
            unused = sorted(set(range(classes)) - {label for _, label in self._samples})
            if unused or min(label for _, label in self._samples) < 0:
                raise RecordError(f"{self.folder}: without a property file the labels must be 0 .. N-1, each used; "
                                  f"they run to {classes - 1} but {len(unused)} of those are never used (e.g. "
                                  f"{unused[:3]}): write a property file, or renumber the labels")
        if self.num_classes and self.num_classes != classes:
            raise RecordError(f"{self.folder}/property says {self.num_classes} classes but the labels name "
                              f"{classes} (0 .. {classes - 1})")

    def _where(self, key: int) -> str:
        offset = self.reader.offsets.get(key)
        return f"{self.reader.rec_path} record {key}" + (f" at byte {offset}" if offset is not None else "")

    def _identity_layout(self, header: ImageHeader) -> list[tuple[int, int]]:
        """``(image key, label)`` from the identity records, after checking that the header's range and the
        identities' image ranges are disjoint, inside the image records and cover all of them."""
        if len(header.label) < 2:
            raise RecordError(f"{self._where(0)}: the header has labels {header.label}, not (first, end)")
        first, end = (int(v) for v in header.label[:2])
        keys = set(self.reader.offsets)
        images = {k for k in keys if 0 < k < first}
        if not 0 < first <= end:
            raise RecordError(f"{self._where(0)}: identity range ({first}, {end}) is empty or inverted")
        beyond = sorted(k for k in keys if k >= end)
        if beyond:
            raise RecordError(f"{self._where(0)}: its identity range ({first}, {end}) leaves out {len(beyond)} "
                              f"records of the .idx (keys {beyond[0]} .. {beyond[-1]}): the header drops data")
        if images != set(range(1, first)):
            missing = sorted(set(range(1, first)) - images)
            raise RecordError(f"{self.reader.idx_path}: image records 1 .. {first - 1} expected, {len(missing)} "
                              f"missing (e.g. key {missing[0]})")
        samples, covered = [], set()
        for label, key in enumerate(range(first, end)):
            if key not in keys:
                raise RecordError(f"{self.reader.idx_path}: identity record {key} (label {label}) is missing")
            ident, _ = unpack_image_record(self.reader.read(key))
            if not isinstance(ident.label, tuple) or len(ident.label) < 2:
                raise RecordError(f"{self._where(key)}: identity {label} has label {ident.label}, not (start, end)")
            start, stop = (int(v) for v in ident.label[:2])
            if not 1 <= start < stop <= first:
                raise RecordError(f"{self._where(key)}: identity {label} spans images ({start}, {stop}), outside "
                                  f"the image records 1 .. {first - 1}")
            overlap = covered & set(range(start, stop))
            if overlap:
                raise RecordError(f"{self._where(key)}: identity {label}'s images ({start}, {stop}) overlap another "
                                  f"identity's (e.g. key {min(overlap)})")
            covered |= set(range(start, stop))
            samples += [(image_key, label) for image_key in range(start, stop)]
        if len(covered) != first - 1:
            left = sorted(set(range(1, first)) - covered)
            raise RecordError(f"{self.folder}: {len(left)} image records belong to no identity (e.g. key {left[0]})")
        return samples

    def _property(self) -> tuple[int, int, int]:
        path = self.folder / "property"
        if not path.is_file():
            return 0, 112, 112
        try:
            classes, height, width = (int(v) for v in path.read_text().strip().split(","))
        except ValueError:
            raise RecordError(f"{path}: expected 'classes,height,width', got {path.read_text().strip()!r}") from None
        return classes, height, width

    def _fail(self, key: int, err: Exception) -> None:
        if self.on_error == "raise":
            raise err
        self.skipped.append((key, str(err)))

    def __len__(self) -> int:
        return len(self._samples)

    def samples(self) -> list[tuple[int, int]]:
        return list(self._samples)

    def image(self, key: int, label: int | None = None) -> bytes:
        """The encoded image of record ``key``, after checking the record's own header: its id (when set) must
        be ``key`` and its label, when ``label`` is given, that label (the identity ranges')."""
        try:
            header, image = unpack_image_record(self.reader.read(key))
        except KeyError:
            raise RecordError(f"{self.reader.idx_path} has no record {key}") from None
        except RecordError as err:
            raise RecordError(f"{self._where(key)}: {err}") from None
        if header.id not in (0, key):
            raise RecordError(f"{self._where(key)} says it is record {header.id}: the .idx points to another "
                              "record's bytes")
        own = header.label[0] if isinstance(header.label, tuple) else header.label
        if label is not None and own != label:
            raise RecordError(f"{self._where(key)} is labelled {own:g} in its own header, {label} by its identity "
                              "range")
        return image
