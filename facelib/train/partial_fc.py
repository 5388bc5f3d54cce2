"""Partial FC (An et al., "Partial FC: Training 10 Million Identities on a Single Machine", 2021).

The class-centre matrix ``(C, D)`` is split across ranks by class: rank ``r`` of ``W`` holds classes
``[r * C / W, (r + 1) * C / W)``. Each step, every rank gathers the embeddings and labels of the
whole global batch, computes cosines against its own centres only — all the positive classes of the
batch that it owns, plus, with ``sample_rate < 1``, a random subset of its negatives — and the softmax
cross-entropy is assembled across ranks with three all-reduces (max, sum of exponentials, target
logit). With one process it is an ordinary (optionally sampled) margin softmax.

Every rank computes the same global loss. The sums over ranks pass gradients straight through (each
rank differentiates only its own shard's terms), and the gather of embeddings sums the ranks' partial
gradients in its backward and multiplies them by the world size, which DDP's averaging of the
backbone's gradients then undoes: backbone and class centres both receive exactly the gradient of
the global mean loss, as in one process with the whole batch (tested with two gloo processes).
Every rank must use the same batch size.
"""

from __future__ import annotations

import math

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn

from ..losses import CombinedMarginLoss


def _distributed() -> bool:
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


class _SumOverRanks(torch.autograd.Function):
    """All-reduce (sum) forward; gradient passed through unchanged (each rank owns its terms)."""

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        y = x.clone()
        dist.all_reduce(y)
        return y

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        return grad


class _GatherEmbeddings(torch.autograd.Function):
    """All-gather forward; backward sums every rank's partial gradient, keeps this rank's rows and scales
    them by the world size to cancel DDP's averaging of the backbone gradients."""

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        ctx.rank, ctx.world = dist.get_rank(), dist.get_world_size()
        parts = [torch.empty_like(x) for _ in range(ctx.world)]
        dist.all_gather(parts, x.contiguous())
        return torch.cat(parts)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        grad = grad.contiguous()
        dist.all_reduce(grad)
        return grad.chunk(ctx.world)[ctx.rank] * ctx.world


class PartialFC(nn.Module):
    """A margin-softmax classifier whose class centres are sharded over ranks.

    Args:
        margin: the margin loss (its ``s`` and margins are used; its cross-entropy is rebuilt here).
        embedding_size: ``D``.
        num_classes: ``C``, all identities.
        sample_rate: share of this rank's negative centres used per step (1: all).
        rank, world_size: default to the initialised process group (0 and 1 without one).
    """

    def __init__(self, margin: CombinedMarginLoss, embedding_size: int, num_classes: int, sample_rate: float = 1.0,
                 rank: int | None = None, world_size: int | None = None) -> None:
        super().__init__()
        if not 0 < sample_rate <= 1:
            raise ValueError(f"sample_rate must be in (0, 1]; got {sample_rate}")
        if num_classes < 1:
            raise ValueError(f"num_classes must be positive; got {num_classes}")
        self.rank = rank if rank is not None else (dist.get_rank() if _distributed() else 0)
        self.world_size = world_size if world_size is not None else (dist.get_world_size() if _distributed() else 1)
        self.margin, self.num_classes, self.sample_rate = margin, num_classes, sample_rate
        per_rank = math.ceil(num_classes / self.world_size)
        self.class_start = min(self.rank * per_rank, num_classes)
        self.class_end = min(self.class_start + per_rank, num_classes)
        self.weight = nn.Parameter(torch.empty(self.class_end - self.class_start, embedding_size))
        nn.init.normal_(self.weight, std=0.01)

    def extra_repr(self) -> str:
        return (f"classes [{self.class_start}, {self.class_end}) of {self.num_classes}, rank {self.rank}/"
                f"{self.world_size}, sample_rate={self.sample_rate}")

    def _gather(self, embeddings: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.world_size == 1:
            return embeddings, labels
        gathered = _GatherEmbeddings.apply(embeddings)
        label_list = [torch.empty_like(labels) for _ in range(self.world_size)]
        dist.all_gather(label_list, labels)
        return gathered, torch.cat(label_list)

    def _sample(self, local_labels: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        """Indices of the centres used this step: every positive this rank owns, plus sampled negatives."""
        count = self.weight.shape[0]
        if self.sample_rate >= 1 or count == 0:
            return torch.arange(count, device=self.weight.device)
        keep = max(int(self.sample_rate * count), 1)
        positives = torch.unique(local_labels[local_labels >= 0])
        scores = torch.rand(count, generator=generator, device=generator.device if generator else "cpu")
        scores = scores.to(self.weight.device)
        scores[positives] = 2.0  # positives always kept
        return torch.topk(scores, max(keep, len(positives))).indices.sort().values

    def forward(self, embeddings: torch.Tensor, labels: torch.Tensor,
                generator: torch.Generator | None = None) -> torch.Tensor:
        """Mean margin-softmax loss over the global batch. ``embeddings`` ``(B, D)``, ``labels`` ``(B,)``."""
        if embeddings.dim() != 2 or labels.shape != embeddings.shape[:1]:
            raise ValueError(f"embeddings must be (B, D) and labels (B,); got {tuple(embeddings.shape)} and "
                             f"{tuple(labels.shape)}")
        if labels.numel() and (labels.min() < 0 or labels.max() >= self.num_classes):
            raise ValueError(f"labels must be in [0, {self.num_classes - 1}]; got {labels.min()}..{labels.max()}")
        embeddings, labels = self._gather(embeddings, labels)
        owned = (labels >= self.class_start) & (labels < self.class_end)
        local = torch.where(owned, labels - self.class_start, torch.full_like(labels, -1))
        index = self._sample(local, generator)
        remap = torch.full((self.weight.shape[0],), -1, dtype=torch.long, device=labels.device)
        remap[index] = torch.arange(len(index), device=labels.device)
        local = torch.where(local >= 0, remap[local.clamp(min=0)], local)
        with torch.autocast(device_type=embeddings.device.type, enabled=False):
            cosine = F.linear(F.normalize(embeddings.float(), dim=1), F.normalize(self.weight[index].float(), dim=1))
            logits = self.margin.logits(cosine, local)  # margin at the targets this rank owns
            return self._cross_entropy(logits, local)

    def _cross_entropy(self, logits: torch.Tensor, local: torch.Tensor) -> torch.Tensor:
        maximum = logits.max(dim=1, keepdim=True).values.detach()
        if self.world_size > 1:
            dist.all_reduce(maximum, op=dist.ReduceOp.MAX)
        exp_sum = torch.exp(logits - maximum).sum(dim=1, keepdim=True)
        rows = torch.arange(len(local), device=logits.device)
        target = torch.where(local >= 0, logits[rows, local.clamp(min=0)] - maximum[:, 0],
                             torch.zeros_like(maximum[:, 0]))
        if self.world_size > 1:
            exp_sum, target = _SumOverRanks.apply(exp_sum), _SumOverRanks.apply(target)
        return (torch.log(exp_sum[:, 0]) - target).mean()
