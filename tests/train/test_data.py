"""Training data: parallel loader workers read the RecordIO pack correctly; batches are reproducible."""

from __future__ import annotations

import pytest
import torch
from torch.utils.data import DataLoader

from facelib.train.data import EpochBatches, FaceTrainingSet, collate


def test_forked_workers_each_read_the_pack_through_their_own_handle(tiny_pack):
    data = FaceTrainingSet(tiny_pack)
    data.records.reader.read(1)  # the parent opens its handle before the workers fork
    expected = [data[k] for k in range(len(data))]
    for _ in range(3):
        loader = DataLoader(data, batch_size=1, num_workers=2, collate_fn=collate)
        for k, (images, labels, skipped, indices) in enumerate(loader):
            assert indices.tolist() == [k]
            assert skipped == 0 and labels.item() == expected[k][1]
            assert torch.equal(images[0], expected[k][0]), k


class _HandleOwner(torch.utils.data.Dataset):
    """Reads a record, then reports which process owns the file handle that served it."""

    def __init__(self, data: FaceTrainingSet) -> None:
        self.data = data

    def __len__(self) -> int:
        return 8

    def __getitem__(self, index: int):
        import os

        self.data[index]
        return os.getpid(), self.data.records.reader._pid


def test_every_worker_process_reads_through_a_handle_it_opened(tiny_pack):
    data = FaceTrainingSet(tiny_pack)
    data[0]  # the parent's handle exists before the fork
    owners = list(DataLoader(_HandleOwner(data), batch_size=None, num_workers=2))
    assert all(pid == owner for pid, owner in owners)
    assert len({pid for pid, _ in owners}) == 2


def test_epoch_batches_are_reproducible_disjoint_and_resumable():
    batches = EpochBatches(100, 8, seed=3, rank=0, world=2)
    other = EpochBatches(100, 8, seed=3, rank=1, world=2)
    first = batches.epoch(0)
    assert len(first) == 6 and all(len(b) == 8 for b in first)
    assert not set(sum(first, [])) & set(sum(other.epoch(0), []))
    assert batches.epoch(0, start=4) == first[4:]
    assert batches.epoch(1) != first
    with pytest.raises(ValueError, match="cannot fill one batch"):
        EpochBatches(10, 8, seed=0, world=2)
