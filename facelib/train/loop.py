"""The training loop: one code path for a CPU, one GPU, or many processes under ``torchrun``.

Per step: a batch of aligned faces (uint8) goes to the device, is randomly flipped, jittered and
rotated and warped into the configured space there (:class:`facelib.warp.RandomRoIWarp`, batched),
embedded by the backbone (RTNet also gets the RoIs used) and classified by Partial FC with the margin
loss. SGD with warm-up then polynomial or step decay, weight decay and gradient clipping; fp16 with
a gradient scaler on CUDA, bf16 autocast on CPU if asked. A non-finite loss stops the run naming the
step (or skips the batch, counted). Under ``torchrun`` the backbone is wrapped in DDP (NCCL on GPUs,
gloo on CPUs) and the class centres are sharded.

Checkpoints (every ``checkpoint_every`` steps and at the end) are written atomically, one file per
rank: model, this rank's class centres, optimizer, scheduler, scaler, every random state and the
step, so that ``resume=True`` continues exactly where the run stopped.
"""

from __future__ import annotations

import json
import logging
import math
import os
import random
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from torch.utils.data import DataLoader
from tqdm.auto import tqdm

from .._atomic import atomic_path
from ..embed import ALIGNED_ROI
from ..losses import create_loss
from ..models import NEEDS_ROIS, create_model
from ..warp import RandomRoIWarp
from ..weights import save_weights
from .config import TrainConfig
from .data import EpochBatches, FaceTrainingSet, collate
from .partial_fc import PartialFC

log = logging.getLogger(__name__)


class NonFiniteLossError(RuntimeError):
    """The loss became NaN or infinite."""


def _setup_distributed(config: TrainConfig) -> tuple[int, int, torch.device]:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    use_cuda = config.device == "cuda" or (config.device == "auto" and torch.cuda.is_available())
    device = torch.device(f"cuda:{local}" if use_cuda else "cpu")
    if use_cuda:
        torch.cuda.set_device(device)
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if use_cuda else "gloo")
    return rank, world, device


def learning_rate_factor(config: TrainConfig, step: int) -> float:
    """The schedule: linear warm-up, then ``(1 - progress)^2`` (poly) or x0.1 at each decay step."""
    if step < config.warmup_steps:
        return (step + 1) / config.warmup_steps
    if config.schedule == "step":
        return 0.1 ** sum(step >= s for s in config.decay_steps)
    if config.schedule != "poly":
        raise ValueError(f"unknown schedule {config.schedule!r}; choose poly or step")
    span = max(config.total_steps - config.warmup_steps, 1)
    return max(1.0 - (step - config.warmup_steps) / span, 0.0) ** 2


def _atomic_save(obj, path: Path) -> None:
    with atomic_path(path) as tmp:
        torch.save(obj, tmp)


def _rng_state() -> dict:
    state = {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    np.random.set_state(state["numpy"])
    random.setstate(state["python"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


class Trainer:
    """Builds everything from a :class:`TrainConfig`; :meth:`run` trains and returns a summary dict."""

    def __init__(self, config: TrainConfig, resume: bool = False) -> None:
        self.config = config
        self.rank, self.world, self.device = _setup_distributed(config)
        self.output = Path(config.output)
        self.output.mkdir(parents=True, exist_ok=True)
        torch.manual_seed(config.seed)  # identical initial weights on every rank
        np.random.seed(config.seed)
        random.seed(config.seed)
        self.data = FaceTrainingSet(config.data, on_error=config.on_bad_image)
        self.batches = EpochBatches(len(self.data), config.batch_size, config.seed, self.rank, self.world)
        self.model = create_model(config.model, config.embedding_size).to(self.device)
        if config.channels_last:
            self.model = self.model.to(memory_format=torch.channels_last)
        self.net = (torch.nn.parallel.DistributedDataParallel(self.model) if self.world > 1 else self.model)
        margin = create_loss(config.loss, **config.loss_args)
        self.classifier = PartialFC(margin, config.embedding_size, self.data.num_classes, config.sample_rate,
                                    self.rank, self.world).to(self.device)
        self.optimizer = torch.optim.SGD(
            [{"params": self.model.parameters()}, {"params": self.classifier.parameters()}],
            lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, lambda s: learning_rate_factor(config, s))
        amp = config.amp if config.amp != "auto" else ("fp16" if self.device.type == "cuda" else "none")
        if amp not in ("fp16", "bf16", "none"):
            raise ValueError(f"unknown amp {config.amp!r}; choose auto, fp16, bf16 or none")
        self.amp_dtype = {"fp16": torch.float16, "bf16": torch.bfloat16}.get(amp)
        self.scaler = torch.amp.GradScaler(self.device.type, enabled=amp == "fp16")
        augment = dict(config.augment)
        self.flip = augment.pop("flip", True)
        self.augment = RandomRoIWarp(config.space, 112, keep_aspect_ratio=True, **augment) \
            if config.space != "cartesian" else None
        self.generator = torch.Generator().manual_seed(config.seed * 1000 + self.rank)  # augmentation, PFC
        self.step, self.skipped_batches, self.skipped_images = 0, 0, 0
        self.history: list[dict] = []
        if resume:
            self._load_checkpoint()

    # -- checkpoints -------------------------------------------------------------------------------

    def checkpoint_path(self, rank: int | None = None) -> Path:
        return self.output / f"checkpoint-rank{self.rank if rank is None else rank}.pt"

    def save_checkpoint(self) -> Path:
        path = self.checkpoint_path()
        _atomic_save({
            "step": self.step, "model": self.model.state_dict(), "classifier": self.classifier.state_dict(),
            "optimizer": self.optimizer.state_dict(), "scheduler": self.scheduler.state_dict(),
            "scaler": self.scaler.state_dict(), "rng": _rng_state(), "generator": self.generator.get_state(),
            "skipped": [self.skipped_batches, self.skipped_images], "history": self.history,
            "config": asdict(self.config), "world": self.world,
        }, path)
        return path

    def _load_checkpoint(self) -> None:
        path = self.checkpoint_path()
        if not path.is_file():
            raise FileNotFoundError(f"cannot resume: no checkpoint at {path}")
        state = torch.load(path, map_location=self.device, weights_only=False)  # our own file: RNG states
        if state["world"] != self.world:
            raise ValueError(f"{path} was written by {state['world']} processes; resume with the same number "
                             f"(now {self.world})")
        self.model.load_state_dict(state["model"])
        self.classifier.load_state_dict(state["classifier"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.scaler.load_state_dict(state["scaler"])
        _set_rng_state(state["rng"])
        self.generator.set_state(state["generator"])
        self.skipped_batches, self.skipped_images = state["skipped"]
        self.history = state["history"]
        self.step = state["step"]
        log.info("resumed from %s at step %d", path, self.step)

    # -- one step ----------------------------------------------------------------------------------

    def _prepare(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        x = images.to(self.device, non_blocking=True).float().div_(255.0)
        if self.flip:
            flip = torch.rand(len(x), generator=self.generator) < 0.5
            x = torch.where(flip.to(self.device)[:, None, None, None], x.flip(-1), x)
        rois = None
        if self.augment is not None:
            base = torch.tensor([ALIGNED_ROI], device=self.device).expand(len(x), 4)
            x, rois, _ = self.augment(x, base, generator=self.generator)
        x = (x - 0.5) / 0.5
        if self.config.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        return x, rois

    def train_step(self, images: torch.Tensor, labels: torch.Tensor) -> float | None:
        x, rois = self._prepare(images)
        labels = labels.to(self.device)
        with torch.autocast(self.device.type, dtype=self.amp_dtype or torch.float32,
                            enabled=self.amp_dtype is not None):
            embeddings = self.net(x, rois) if self.config.model in NEEDS_ROIS else self.net(x)
            loss = self.classifier(embeddings.float(), labels, self.generator)
        if not torch.isfinite(loss):
            if self.config.on_nonfinite == "skip":
                self.skipped_batches += 1
                self.optimizer.zero_grad(set_to_none=True)
                return None
            raise NonFiniteLossError(f"the loss is {loss.item()} at step {self.step} (lr "
                                     f"{self.scheduler.get_last_lr()[0]:.4g}); lower the learning rate, check the "
                                     "data, or set on_nonfinite='skip'")
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        if self.config.grad_clip > 0:
            self.scaler.unscale_(self.optimizer)
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.config.grad_clip)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        return loss.item()

    # -- verification ------------------------------------------------------------------------------

    def verify(self) -> float | None:
        """LFW accuracy of the current model on a prepared pack subset (rank 0; None elsewhere)."""
        if self.rank != 0:
            return None
        from ..benchmark import load_benchmark, prepare
        from ..embed import FaceEmbedder
        from ..evaluation import evaluate, pair_distances

        bench = load_benchmark("lfw", self.config.verify_pairs, progress=False)
        pack, _ = prepare(bench, progress=False, device=str(self.device))
        embedder = FaceEmbedder.from_module(self.model, self.config.model, self.config.space, self.device)
        self.model.eval()
        try:
            embeddings = embedder.embed(pack.faces).numpy()
        finally:
            self.model.train()
        index = pack.index()
        a = embeddings[[index[p.a] for p in bench.pairs]]
        b = embeddings[[index[p.b] for p in bench.pairs]]
        return evaluate(pair_distances(a, b), np.array([p.same for p in bench.pairs])).accuracy

    # -- the loop ----------------------------------------------------------------------------------

    def run(self) -> dict:
        config = self.config
        writer = self._tensorboard()
        start, start_step = time.perf_counter(), self.step
        images_seen = 0
        bar = tqdm(total=config.total_steps, initial=self.step, desc="training", disable=self.rank != 0)
        self.model.train()
        while self.step < config.total_steps:
            epoch, offset = divmod(self.step, self.batches.per_epoch)
            loader = DataLoader(self.data, batch_sampler=self.batches.epoch(epoch, offset), collate_fn=collate,
                                num_workers=config.num_workers, pin_memory=self.device.type == "cuda")
            for images, labels, skipped in loader:
                self.skipped_images += skipped
                if len(labels) != config.batch_size and self.world > 1:
                    raise RuntimeError("skipping bad images under torchrun needs equal batches on every rank; "
                                       "fix the data or train in one process")
                loss = self.train_step(images, labels) if len(labels) else None
                self.scheduler.step()
                self.step += 1
                images_seen += len(labels) * self.world
                rate = images_seen / max(time.perf_counter() - start, 1e-9)
                bar.update(1)
                if loss is not None:
                    bar.set_postfix(loss=f"{loss:.3f}", img_s=f"{rate:.1f}")
                if self.step % config.log_every == 0 or self.step == config.total_steps:
                    self.history.append({"step": self.step, "loss": loss, "lr": self.scheduler.get_last_lr()[0],
                                         "images_per_second": rate})
                    if writer is not None and loss is not None:
                        writer.add_scalar("train/loss", loss, self.step)
                        writer.add_scalar("train/lr", self.scheduler.get_last_lr()[0], self.step)
                        writer.add_scalar("train/images_per_second", rate, self.step)
                if config.verify_every and self.step % config.verify_every == 0 and self.step < config.total_steps:
                    self._record_verification(writer)
                if self.step % config.checkpoint_every == 0 or self.step == config.total_steps:
                    self.save_checkpoint()
                if self.step >= config.total_steps:
                    break
        bar.close()
        accuracy = self._record_verification(writer) if config.verify_pairs is not None else None
        seconds = time.perf_counter() - start
        summary = {
            "steps": self.step, "steps_this_run": self.step - start_step, "seconds": round(seconds, 1),
            "images_per_second": round(images_seen / max(seconds, 1e-9), 2), "world_size": self.world,
            "final_loss": next((h["loss"] for h in reversed(self.history) if h["loss"] is not None), None),
            "lfw_accuracy": accuracy, "skipped_batches": self.skipped_batches,
            "skipped_images": self.skipped_images, "classes": self.data.num_classes, "images": len(self.data),
        }
        if self.rank == 0:
            save_weights(self.model, self.output / f"{config.model}_{config.space}.safetensors",
                         space=config.space, steps=str(self.step))
            (self.output / "summary.json").write_text(json.dumps(summary, indent=1))
        if writer is not None:
            writer.close()
        return summary

    def _record_verification(self, writer) -> float | None:
        accuracy = self.verify()
        if accuracy is not None:
            self.history.append({"step": self.step, "loss": None, "lfw_accuracy": accuracy})
            if writer is not None:
                writer.add_scalar("verify/lfw_accuracy", accuracy, self.step)
        return accuracy

    def _tensorboard(self):
        if self.rank != 0:
            return None
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            log.warning("tensorboard is not installed (the 'train' extra): no TensorBoard scalars")
            return None
        return SummaryWriter(str(self.output / "tensorboard"))


def train(config: TrainConfig, resume: bool = False) -> dict:
    """Train with ``config`` (see :class:`Trainer`); returns the summary."""
    if not math.isfinite(config.lr) or config.lr <= 0:
        raise ValueError(f"lr must be a positive number; got {config.lr}")
    return Trainer(config, resume).run()
