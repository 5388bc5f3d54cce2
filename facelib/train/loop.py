"""The training loop: one code path for a CPU, one GPU, or many processes under ``torchrun``.

Per step: a batch of aligned faces (uint8) goes to the device, is randomly flipped, jittered and
rotated and warped into the configured space there (:class:`facelib.warp.RandomRoIWarp`, batched),
embedded by the backbone (RTNet also gets the RoIs used) and classified by Partial FC with the margin
loss. SGD with warm-up then polynomial or step decay, weight decay and gradient clipping; fp16 with
a gradient scaler on CUDA, bf16 autocast on CPU if asked. A non-finite loss stops the run naming the
step (or skips the batch, counted). Under ``torchrun`` the backbone is wrapped in DDP (NCCL on GPUs,
gloo on CPUs) and the class centres are sharded. With ``compile`` the steps run the backbone under
``torch.compile``; the checks, checkpoints and exports use the plain module, which shares its weights.

Around the steps, callbacks (:func:`default_callbacks`) show progress and log, run the checks (the
verification benchmark through :mod:`facelib.verification`, the held-out student-teacher cosine),
checkpoint and export the weights and ``summary.json``.

Checkpoints (every ``checkpoint_every`` steps and at the end) are written atomically, one file per
rank: model, this rank's class centres, optimizer, scheduler, scaler, every random state and the
step, so that ``resume=True`` continues exactly where the run stopped.
"""

from __future__ import annotations

import json
import logging
import math
import os
import platform
import random
import shutil
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from torch.utils.data import DataLoader
from tqdm.auto import tqdm

from .._atomic import atomic_path
from ..data.folders import holdout_labels
from ..embed import checked_device, cpu_has_fast_bf16
from ..losses import create_loss
from ..models import create_model, input_spec, model_input
from ..warp import RandomRoIWarp
from ..weights import find_weights, load_weights, registry, save_weights, unpickling_refusal, verify_entry
from .config import TrainConfig, wants_cuda
from .data import EpochBatches, FaceTrainingSet, WithMixedFaces, collate
from .distill import (
    distillation_loss,
    identity_outliers,
    mixup_pairs,
    mixup_targets,
    teacher_init_weights,
    teacher_targets,
)
from .partial_fc import PartialFC

log = logging.getLogger(__name__)


class NonFiniteLossError(RuntimeError):
    """The loss became NaN or infinite."""


class CheckpointError(RuntimeError):
    """A checkpoint cannot be read or does not fit the run; the message names the file."""


class OutputLock:
    """An exclusive ``flock`` on a run folder's lock file for one process, released when the process ends (however
    it ends): a second training into the same folder is refused, naming the holder."""

    def __init__(self, path: Path) -> None:
        import fcntl

        self.path = path
        self.handle = open(path, "a+")  # noqa: SIM115 (held open for the run's lifetime)
        try:
            fcntl.flock(self.handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.handle.seek(0)
            holder = self.handle.read().strip() or "another process"
            self.handle.close()
            if holder.startswith(f"pid {os.getpid()} "):  # this process holds it (an earlier Trainer object)
                return
            raise FileExistsError(f"{path.parent} is in use by another training ({holder}); wait for it to end or "
                                  "train into another output") from None
        self.handle.seek(0)
        self.handle.truncate()
        self.handle.write(f"pid {os.getpid()} on {platform.node()} since {time.strftime('%Y-%m-%d %H:%M:%S')}\n")
        self.handle.flush()


# Config fields that change tensor shapes or the samples themselves (another draw of mixed faces): a checkpoint
# cannot continue under other values.
_SHAPE_FIELDS = ("model", "space", "embedding_size", "margin_weight", "teacher", "data", "mixup_faces",
                 "mixup_draw")
# The summary's record of a warm start, kept in every checkpoint so that a resumed run still reports it.
_WARM_START_FIELDS = ("init_weights", "init_weights_sha256")
TEACHER_INIT = "sface"  # init_weights naming the SFace teacher's weights (an sfacenet run)


def hardware(device: torch.device, world: int = 1) -> str:
    """What a run trained on, in words, for its summary and model card: the GPU's name or the CPU threads."""
    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
    else:
        name = f"{torch.get_num_threads()} CPU threads ({platform.processor() or platform.machine()})"
    return name if world == 1 else f"{world} x {name}"


def _setup_distributed(config: TrainConfig) -> tuple[int, int, torch.device]:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    use_cuda = wants_cuda(config.device)
    if use_cuda and not torch.cuda.is_available():
        raise ValueError(f"device={config.device!r} but this machine has no CUDA device; use 'cpu' or 'auto'")
    if ":" in config.device:
        local = checked_device(config.device).index
    device = torch.device(f"cuda:{local}" if use_cuda else "cpu")
    if use_cuda:
        torch.cuda.set_device(device)
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if use_cuda else "gloo")
    return rank, world, device


def _compiled(net: torch.nn.Module, device: torch.device) -> torch.nn.Module:
    """``net`` under ``torch.compile`` for the training steps only: the checks, checkpoints and exports use the
    uncompiled module, which shares its parameters. Inductor builds C++ kernels on a CPU, so a missing compiler
    is named here rather than deep inside the first step."""
    if device.type == "cpu" and not any(shutil.which(cc) for cc in ("g++", "c++", "clang++")):
        raise RuntimeError("config.compile=True needs a C++ compiler on a CPU (torch.compile builds its kernels "
                           "with one) and none was found on PATH: install g++ or set compile=False")
    return torch.compile(net)


def learning_rate_factor(config: TrainConfig, step: int) -> float:
    """The schedule: linear warm-up, then ``(1 - progress)^2`` (poly) or x0.1 at each decay step."""
    if step < config.warmup_steps:
        return (step + 1) / config.warmup_steps
    if config.schedule == "step":
        return 0.1 ** sum(step >= s for s in config.decay_steps)
    span = max(config.total_steps - config.warmup_steps, 1)
    progress = min((step - config.warmup_steps) / span, 1.0)
    if config.schedule == "cosine":
        return 0.5 * (1.0 + math.cos(math.pi * progress))
    if config.schedule != "poly":
        raise ValueError(f"unknown schedule {config.schedule!r}; choose poly, step or cosine")
    return max(1.0 - progress, 0.0) ** 2


def _keep_as_previous(current: Path, previous: Path) -> None:
    """Make ``previous`` a copy of ``current`` without ever removing ``current``: a hard link renamed into place
    (a full copy where the file system has no hard links)."""
    with atomic_path(previous) as tmp:
        tmp.unlink()
        try:
            os.link(current, tmp)
        except OSError:
            shutil.copy2(current, tmp)


def _rng_state() -> dict:
    """Every random state as tensors and plain containers, so that checkpoints load with ``weights_only``."""
    kind, keys, position, has_gauss, gauss = np.random.get_state()
    version, internal, python_gauss = random.getstate()
    state = {"torch": torch.get_rng_state(),
             "numpy": {"kind": kind, "keys": torch.from_numpy(keys.astype(np.int64)), "position": int(position),
                       "has_gauss": int(has_gauss), "gauss": float(gauss)},
             "python": {"version": version, "internal": torch.tensor(internal, dtype=torch.int64),
                        "gauss": python_gauss}}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    n = state["numpy"]
    np.random.set_state((n["kind"], n["keys"].numpy().astype(np.uint32), n["position"], n["has_gauss"], n["gauss"]))
    p = state["python"]
    random.setstate((p["version"], tuple(int(v) for v in p["internal"].tolist()), p["gauss"]))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


class Trainer:
    """Builds everything from a :class:`TrainConfig`; :meth:`run` trains and returns a summary dict.

    ``callbacks``: what happens around the steps (:class:`Callback`); None for :func:`default_callbacks`
    (progress and logs, checks, checkpoints, export), ``[]`` for none (e.g. to time steps)."""

    def __init__(self, config: TrainConfig, resume: bool = False, overwrite: bool = False,
                 callbacks: list[Callback] | None = None) -> None:
        self.config = config
        self.callbacks = default_callbacks() if callbacks is None else list(callbacks)
        self.writer = None
        self.rank, self.world, self.device = _setup_distributed(config)
        self.output = Path(config.output)
        held = [p.name for p in (self.checkpoint_path(), self.previous_checkpoint_path()) if p.is_file()]
        if not resume and not overwrite and held:
            raise FileExistsError(f"{self.output} already holds a run ({', '.join(held)}): continue it with --resume, "
                                  "or replace it with --overwrite")
        self.output.mkdir(parents=True, exist_ok=True)
        self._lock = OutputLock(self.output / f".lock-rank{self.rank}")
        torch.manual_seed(config.seed)  # identical initial weights on every rank
        np.random.seed(config.seed)
        random.seed(config.seed)
        self.data = FaceTrainingSet(config.data, on_error=config.on_bad_image)
        self.spec = input_spec(config.model)
        self.targets, self.report = None, {}
        self._select_images()
        self.batches = EpochBatches(len(self.sample_indices), config.batch_size, config.seed, self.rank, self.world)
        self.model = create_model(config.model, config.embedding_size).to(self.device)
        if config.init_weights and not resume:  # a resumed run's weights come from its checkpoint
            self._load_initial_weights()
        if config.channels_last:
            self.model = self.model.to(memory_format=torch.channels_last)
        self.net = (torch.nn.parallel.DistributedDataParallel(self.model) if self.world > 1 else self.model)
        if config.compile:
            self.net = _compiled(self.net, self.device)
        self.classifier = None
        groups = [{"params": self.model.parameters()}]
        if config.margin_weight > 0:
            margin = create_loss(config.loss, **config.loss_args)
            self.classifier = PartialFC(margin, config.embedding_size, self.data.num_classes, config.sample_rate,
                                        self.rank, self.world).to(self.device)
            groups.append({"params": self.classifier.parameters()})
        if config.optimizer == "sgd":
            self.optimizer = torch.optim.SGD(groups, lr=config.lr, momentum=config.momentum,
                                             weight_decay=config.weight_decay)
        elif config.optimizer == "adamw":
            self.optimizer = torch.optim.AdamW(groups, lr=config.lr, weight_decay=config.weight_decay)
        else:
            raise ValueError(f"unknown optimizer {config.optimizer!r}; choose sgd or adamw")
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, lambda s: learning_rate_factor(config, s))
        amp = config.amp if config.amp != "auto" else ("fp16" if self.device.type == "cuda" else "none")
        if amp not in ("fp16", "bf16", "none"):
            raise ValueError(f"unknown amp {config.amp!r}; choose auto, fp16, bf16 or none")
        if amp == "bf16" and self.device.type == "cpu" and not cpu_has_fast_bf16():
            # emulated bf16 is no shortcut: measured 23 s a distillation step against 2.3 in fp32 (2-core AMD EPYC)
            log.warning("amp='bf16' on a CPU without native bf16 (no amx_bf16 or avx512_bf16 in /proc/cpuinfo) runs "
                        "about 10x slower than fp32 here: add --set amp=none (or amp='none' in the config)")
        self.amp_dtype = {"fp16": torch.float16, "bf16": torch.bfloat16}.get(amp)
        self.scaler = torch.amp.GradScaler(self.device.type, enabled=amp == "fp16")
        augment = dict(config.augment)
        self.flip = augment.pop("flip", True)
        self.colour, self.grey = float(augment.pop("colour", 0.0)), float(augment.pop("grey", 0.0))
        # One geometric augmentation for every space: the Cartesian space is a warp like the others.
        self.augment = RandomRoIWarp(config.space, self.spec.size, keep_aspect_ratio=self.spec.keep_aspect_ratio,
                                     **augment)
        self.generator = torch.Generator().manual_seed(config.seed * 1000 + self.rank)  # augmentation, PFC
        self.step, self.skipped_batches, self.skipped_images = 0, 0, 0
        self.history: list[dict] = []
        if resume:
            self._load_checkpoint()

    def _select_images(self) -> None:
        """The training images: all, less held-out identities and (with a teacher) identity outliers."""
        config = self.config
        self.labels = labels = np.array([label for _, label in self.data.items])  # per face, -1: none
        keep = np.ones(len(labels), bool)
        held = np.zeros(0, np.int64)
        if config.holdout_identities:
            classes = np.unique(labels)
            if config.holdout_identities >= len(classes):
                raise ValueError(f"holdout_identities={config.holdout_identities} leaves no identity to train on "
                                 f"({len(classes)} in {config.data})")
            held = holdout_labels(classes, config.holdout_identities, config.seed)
            keep &= ~np.isin(labels, held)
        if config.teacher:
            self.targets = torch.from_numpy(teacher_targets(self.data, config.teacher, progress=self.rank == 0))
            if self.targets.shape[-1] != config.embedding_size:
                raise ValueError(f"the teacher {config.teacher!r} gives {self.targets.shape[-1]}-d embeddings; set "
                                 f"embedding_size={self.targets.shape[-1]} (now {config.embedding_size})")
            outliers = identity_outliers(self.targets.numpy(), labels, config.min_identity_cosine)
            keep[outliers] = False
            self.report["identity_outliers_dropped"] = int(len(outliers))
        if config.margin_weight > 0 and not (labels[keep] >= 0).any():
            raise ValueError(f"every training image of {config.data} is labelled -1 (no identity): the margin loss "
                             "needs labels; fix the pack or train with a teacher and margin_weight=0")
        self.train_indices = np.flatnonzero(keep)
        self.holdout_indices = np.flatnonzero(np.isin(labels, held))
        self.report.update({"training_images": int(len(self.train_indices)),
                            "holdout_identities": int(len(held)), "holdout_images": int(len(self.holdout_indices))})
        # What the batches draw from: the pack's training faces, then any mixed faces (indices after the pack's).
        self.loader_data, self.sample_indices = self.data, self.train_indices
        if config.mixup_faces:  # mixed faces of training faces only: the held-out identities stay unseen
            pairs, weights = mixup_pairs(self.train_indices, labels, config.mixup_faces, config.seed,
                                         config.mixup_draw)
            mixed = mixup_targets(self.data, pairs, weights, config.teacher, progress=self.rank == 0)
            self.targets = torch.cat([self.targets, torch.from_numpy(mixed)])
            self.loader_data = WithMixedFaces(self.data, pairs, weights)
            self.sample_indices = np.concatenate([self.train_indices, len(self.data) + np.arange(len(pairs))])
            self.report["mixup_faces"] = int(len(pairs))
        log.info("training images: %s", self.report)

    def _load_initial_weights(self) -> None:
        """Warm start: load ``config.init_weights`` (a registered name, checked against its sha256 and against
        the run's model, space and embedding size, or a weights file) into the fresh model."""
        name, path = self.config.init_weights, self._initial_weights_path()
        load_weights(self.model, path)
        self._record_warm_start(name, path)
        log.info("initialised from %s (%s)", name, path)

    def _record_warm_start(self, name: str, path: Path) -> None:
        """Put the warm start's name and the sha256 of its file in the report (the ``_WARM_START_FIELDS``)."""
        from ..data.fetch import sha256sum

        self.report.update(dict(zip(_WARM_START_FIELDS, (name, sha256sum(path)), strict=True)))

    def _initial_weights_path(self) -> Path:
        """The file ``config.init_weights`` names: a registered model (checked against its sha256 and against the
        run's model, space and embedding size) or a weights file."""
        config, name = self.config, self.config.init_weights
        if name == TEACHER_INIT:
            if (config.model, config.embedding_size) != ("sfacenet", 128):
                raise ValueError(f"init_weights {name!r} starts from the SFace teacher's own weights, which fit only "
                                 f"model 'sfacenet' with 128-d embeddings; this run trains a {config.model} with "
                                 f"{config.embedding_size}-d embeddings")
            return teacher_init_weights()
        entry = find_weights(name=name)
        if entry is not None:
            found = (entry.model, entry.space, entry.embedding_size)
            if found != (config.model, config.space, config.embedding_size):
                raise ValueError(f"init_weights {name!r} is a {found[0]} in {found[1]} space with {found[2]}-d "
                                 f"embeddings; this run trains a {config.model} in {config.space} space with "
                                 f"{config.embedding_size}-d embeddings")
            path = verify_entry(entry)
        else:
            path = Path(name)
            if not path.is_file():
                names = ", ".join(e.key for e in registry()) or "none"
                raise FileNotFoundError(f"init_weights {name!r} is neither a registered model (registered: {names}) "
                                        "nor a weights file")
        return path

    # -- checkpoints -------------------------------------------------------------------------------

    def checkpoint_path(self, rank: int | None = None) -> Path:
        return self.output / f"checkpoint-rank{self.rank if rank is None else rank}.pt"

    def summary_path(self) -> Path:
        """``summary.json``: written once a run reaches ``total_steps`` (the :class:`Export` callback)."""
        return self.output / "summary.json"

    def previous_checkpoint_path(self) -> Path:
        return self.checkpoint_path().with_suffix(".previous.pt")

    def save_checkpoint(self) -> Path:
        """Write this rank's checkpoint, keeping the one before it (``*.previous.pt``). The new file is written
        in full first; then the current one is hard-linked as the previous and the new one renamed over it, so a
        kill at any moment leaves a readable current checkpoint (the old or the new one)."""
        path = self.checkpoint_path()
        state = {
            "step": self.step, "model": self.model.state_dict(),
            "classifier": self.classifier.state_dict() if self.classifier is not None else {},
            "optimizer": self.optimizer.state_dict(), "scheduler": self.scheduler.state_dict(),
            "scaler": self.scaler.state_dict(), "rng": _rng_state(), "generator": self.generator.get_state(),
            "skipped": [self.skipped_batches, self.skipped_images], "history": self.history,
            "config": asdict(self.config), "world": self.world,
            "warm_start": {k: self.report[k] for k in _WARM_START_FIELDS if k in self.report},
        }
        with atomic_path(path) as tmp:
            torch.save(state, tmp)
            if path.is_file():
                _keep_as_previous(path, self.previous_checkpoint_path())
        return path
    def _load_checkpoint(self) -> None:
        path, previous = self.checkpoint_path(), self.previous_checkpoint_path()
        if not path.is_file():
            if not previous.is_file():
                raise FileNotFoundError(f"cannot resume: no checkpoint at {path}")
            log.warning("no current checkpoint %s; resuming from the previous one %s", path, previous)
            path = previous
        try:
            state = torch.load(path, map_location=self.device, weights_only=True)
        except Exception as err:  # damaged, truncated, or holding code: never unpickled
            if path == previous or not previous.is_file():
                raise CheckpointError(f"cannot resume from {path}: it is damaged or not a facelib checkpoint "
                                      f"({unpickling_refusal(err)})") from None
            damaged = path.with_suffix(".damaged.pt")
            os.replace(path, damaged)  # set aside, so the next save cannot move it over the good previous one
            log.warning("%s is unreadable (%s); moved it to %s and resuming from the previous checkpoint %s", path,
                        unpickling_refusal(err), damaged.name, previous)
            path = previous
            try:
                state = torch.load(path, map_location=self.device, weights_only=True)
            except Exception as err2:
                raise CheckpointError(f"cannot resume: both {damaged} and {previous} are damaged "
                                      f"({unpickling_refusal(err2)})") from None
        self._check_resumed_config(state.get("config", {}), path)
        if state["world"] != self.world:
            raise ValueError(f"{path} was written by {state['world']} processes; resume with the same number "
                             f"(now {self.world})")
        self.model.load_state_dict(state["model"])
        if self.classifier is not None:
            stored = state["classifier"].get("weight")
            if stored is not None and tuple(stored.shape) != tuple(self.classifier.weight.shape):
                now = tuple(self.classifier.weight.shape)
                raise CheckpointError(f"cannot resume from {path}: the training data changed ({self.config.data} now "
                                      f"has a classifier of shape {now}, the checkpoint {tuple(stored.shape)}); "
                                      "start a new run in another output")
            self.classifier.load_state_dict(state["classifier"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.scaler.load_state_dict(state["scaler"])
        _set_rng_state(state["rng"])
        self.generator.set_state(state["generator"])
        self.skipped_batches, self.skipped_images = state["skipped"]
        self.history = state["history"]
        self.step = state["step"]
        self._restore_warm_start(state.get("warm_start"), path)
        log.info("resumed from %s at step %d", path, self.step)

    def _restore_warm_start(self, stored: dict | None, path: Path) -> None:
        """Carry the warm start's name and sha256 over a resume, so that the summary (and the model card made
        from it) still names the weights the run began from."""
        if stored:
            self.report.update({k: stored[k] for k in _WARM_START_FIELDS if k in stored})
        elif self.config.init_weights:  # a checkpoint written before the warm start was stored in it
            weights = self._initial_weights_path()
            log.warning("%s does not record its warm start; recording %s as it is now (sha256 of %s)", path,
                        self.config.init_weights, weights)
            self._record_warm_start(self.config.init_weights, weights)

    def _check_resumed_config(self, stored: dict, path: Path) -> None:
        now = asdict(self.config)
        changed = {k for k in now if k in stored and stored[k] != now[k]}
        shape = sorted(changed & set(_SHAPE_FIELDS))
        if shape:
            raise CheckpointError(f"cannot resume from {path}: " + ", ".join(
                f"{k} was {stored[k]!r}, now {now[k]!r}" for k in shape) + " (start a new run in another output)")
        for k in sorted(changed):
            log.warning("resuming with %s=%r (the checkpoint was written with %r)", k, now[k], stored[k])

    # -- one step ----------------------------------------------------------------------------------

    def _prepare(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor]:
        """uint8 faces -> augmented model input, RoIs (RTNet) and which samples were mirrored ``(B,)`` bool."""
        x = images.to(self.device, non_blocking=True).float().div_(255.0)
        flip = torch.zeros(len(x), dtype=torch.bool)
        if self.flip:
            flip = torch.rand(len(x), generator=self.generator) < 0.5
            x = torch.where(flip.to(self.device)[:, None, None, None], x.flip(-1), x)
        if self.colour or self.grey:
            x = self._colour(x)
        x, rois = model_input(x, self.spec, self.config.space, self.augment, self.generator)
        if self.config.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        return x, rois, flip

    def _colour(self, x: torch.Tensor) -> torch.Tensor:
        """Brightness, contrast and saturation jitter of up to ``colour``; greyscale with probability ``grey``."""
        draws = torch.rand(len(x), 4, generator=self.generator).to(self.device)
        brightness, contrast, saturation = (1.0 + self.colour * (2.0 * draws[:, :3] - 1.0)).unbind(1)
        grey = (x * torch.tensor([0.299, 0.587, 0.114], device=x.device)[:, None, None]).sum(1, keepdim=True)
        mean = grey.mean(dim=(2, 3), keepdim=True)
        x = x * brightness[:, None, None, None]
        x = (x - mean) * contrast[:, None, None, None] + mean
        grey = (x * torch.tensor([0.299, 0.587, 0.114], device=x.device)[:, None, None]).sum(1, keepdim=True)
        saturation = torch.where(draws[:, 3] < self.grey, torch.zeros_like(saturation), saturation)
        x = grey + (x - grey) * saturation[:, None, None, None]
        return x.clamp_(0.0, 1.0)

    def train_step(self, images: torch.Tensor, labels: torch.Tensor, indices: torch.Tensor | None = None
                   ) -> float | None:
        x, rois, flip = self._prepare(images)
        labels = labels.to(self.device)
        with torch.autocast(self.device.type, dtype=self.amp_dtype or torch.float32,
                            enabled=self.amp_dtype is not None):
            embeddings = self.net(x, rois) if rois is not None else self.net(x)
            loss = torch.zeros((), device=self.device)
            if self.classifier is not None:
                loss = loss + self.config.margin_weight * self.classifier(embeddings.float(), labels, self.generator)
            if self.targets is not None:
                targets = self.targets[indices, flip.long()].to(self.device)
                loss = loss + self.config.distill_weight * distillation_loss(embeddings, targets,
                                                                             self.config.similarity_weight)
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
        if self.classifier is None and not any(p.grad is not None for p in self.model.parameters()):
            raise RuntimeError("nothing to learn from: set margin_weight > 0 or a teacher")
        self.scaler.step(self.optimizer)
        self.scaler.update()
        return loss.item()

    # -- checks ------------------------------------------------------------------------------------

    def verify(self) -> float | None:
        """Accuracy of the current model on ``verify_benchmark`` (``verify_pairs`` of its pairs; all with None),
        through the one verification pipeline (:func:`facelib.verification.run`; rank 0, None elsewhere)."""
        if self.rank != 0 or not self.config.verify_benchmark:
            return None
        return self.verify_result().accuracy

    def verify_result(self, benchmark: str | None = None, pairs: int | None = None):
        """The current model's :class:`facelib.evaluation.VerificationResult` (accuracy and its fold std) on
        ``benchmark`` (default ``verify_benchmark``) with ``pairs`` of its pairs (default ``verify_pairs``)."""
        from ..embed import FaceEmbedder
        from ..verification import load_benchmark, prepare, run

        name = benchmark or self.config.verify_benchmark
        if not name:
            raise ValueError("verify_result: name a benchmark (the config's verify_benchmark is empty)")
        bench = load_benchmark(name, pairs if benchmark else self.config.verify_pairs, progress=False)
        pack, pack_file = prepare(bench, progress=False, device=str(self.device))
        embedder = FaceEmbedder.from_module(self.model, self.config.model, self.config.space, self.device)
        self.model.eval()
        try:
            return run(bench, pack, pack_file, embedder)[0]
        finally:
            self.model.train()

    def holdout_cosine(self) -> float | None:
        """Mean cosine between the student's and the teacher's embeddings of the held-out identities' faces
        (no augmentation, no flip): the model-selection metric, which never looks at LFW or CFP."""
        if self.rank != 0 or self.targets is None or not len(self.holdout_indices):
            return None
        return self.teacher_cosine(self.holdout_indices)

    def teacher_cosine(self, indices: np.ndarray) -> float:
        """Mean cosine between the student's and the teacher's embeddings of the pack's faces ``indices``
        (no augmentation, no flip; the model is left in training mode). On training faces against the held-out
        ones it measures the fit gap: how much the student has memorised rather than learnt."""
        return float(self.teacher_cosines(indices).mean())

    @torch.no_grad()
    def teacher_cosines(self, indices: np.ndarray) -> np.ndarray:
        """``(K,)`` the cosine between the student's and the teacher's embedding of each face ``indices`` (as
        :meth:`teacher_cosine`, face by face: a change's standard error comes from these)."""
        if self.targets is None:
            raise ValueError(f"{self.config.output}: teacher_cosine needs a teacher (config.teacher is empty)")
        indices = np.asarray(indices, np.int64)
        if not len(indices) or indices.min() < 0 or indices.max() >= len(self.data):
            raise ValueError(f"teacher_cosine: indices must be a non-empty selection of the {len(self.data)} faces "
                             f"of {self.config.data}")
        self.model.eval()
        try:
            cosines = []
            for start in range(0, len(indices), 128):
                chunk = indices[start:start + 128]
                faces = torch.stack([self.data[int(k)][0] for k in chunk]).to(self.device).float() / 255.0
                x, rois = model_input(faces, self.spec, self.config.space)
                with torch.autocast(self.device.type, dtype=self.amp_dtype or torch.float32,
                                    enabled=self.amp_dtype is not None):
                    student = self.model(x, rois) if rois is not None else self.model(x)
                target = self.targets[chunk, 0].to(self.device)
                cosines.append(torch.nn.functional.cosine_similarity(student.float(), target.float(), dim=1).cpu())
            return torch.cat(cosines).numpy()
        finally:
            self.model.train()

    def record(self, name: str, value: float | None) -> float | None:
        """Keep a measured value in the history and TensorBoard (``verify/<name>``); None: not measured here."""
        if value is not None:
            self.history.append({"step": self.step, "loss": None, name: value})
            if self.writer is not None:
                self.writer.add_scalar(f"verify/{name}", value, self.step)
        return value

    # -- the loop ----------------------------------------------------------------------------------

    def run(self, steps: int | None = None) -> dict:
        """Train until ``total_steps`` (or for ``steps`` more) and return the summary; the callbacks log, check,
        checkpoint and export (:func:`default_callbacks`)."""
        until = self.config.total_steps if steps is None else min(self.step + steps, self.config.total_steps)
        finished = self.summary_path()
        if self.step == self.config.total_steps and finished.is_file():
            # A finished run resumed again: its summary (with the wall time of the steps it trained) and its
            # exported weights stay as they are; re-exporting would write a summary of 0 steps and 0 seconds.
            log.info("%s already finished at step %d: nothing to train, its summary and weights are kept",
                     self.output, self.step)
            return json.loads(finished.read_text())
        self.writer, self.clock = self._tensorboard(), _Clock(self.step)
        self.model.train()
        try:
            for callback in self.callbacks:
                callback.on_start(self)
            while self.step < until:
                for images, labels, skipped, indices in self._epoch_loader():
                    loss = self._step(images, labels, skipped, indices)
                    for callback in self.callbacks:
                        callback.on_step(self, loss)
                    if self.step >= until:
                        break
            summary = self._summary()
            for callback in self.callbacks:
                callback.on_end(self, summary)
        finally:
            if self.writer is not None:
                self.writer.close()
                self.writer = None
        return summary

    def _epoch_loader(self) -> DataLoader:
        """The rest of the current epoch's batches (this rank's share), in the epoch's fixed order."""
        epoch, offset = divmod(self.step, self.batches.per_epoch)
        batches = [self.sample_indices[batch].tolist() for batch in self.batches.epoch(epoch, offset)]
        return DataLoader(self.loader_data, batch_sampler=batches, collate_fn=collate,
                          num_workers=self.config.num_workers, pin_memory=self.device.type == "cuda")

    def _step(self, images: torch.Tensor, labels: torch.Tensor, skipped: int, indices: torch.Tensor
              ) -> float | None:
        """One optimisation step and its bookkeeping; the loss, or None for a skipped or empty batch."""
        self.skipped_images += skipped
        if len(labels) != self.config.batch_size and self.world > 1:
            raise RuntimeError("skipping bad images under torchrun needs equal batches on every rank; fix the data "
                               "or train in one process")
        loss = self.train_step(images, labels, indices) if len(labels) else None
        self.scheduler.step()
        self.step += 1
        self.clock.images += len(labels) * self.world
        return loss

    def _summary(self) -> dict:
        seconds = self.clock.seconds()
        return {
            "steps": self.step, "steps_this_run": self.step - self.clock.first_step, "seconds": round(seconds, 1),
            "images_per_second": round(self.clock.rate(), 2), "world_size": self.world,
            "final_loss": next((h["loss"] for h in reversed(self.history) if h["loss"] is not None), None),
            "lfw_accuracy": None, "skipped_batches": self.skipped_batches, "skipped_images": self.skipped_images,
            "classes": self.data.num_classes, "images": len(self.data), "hardware": hardware(self.device, self.world),
            **self.report,
        }

    def _tensorboard(self):
        if self.rank != 0 or not self.callbacks:
            return None
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            log.warning("tensorboard is not installed (the 'train' extra): no TensorBoard scalars")
            return None
        return SummaryWriter(str(self.output / "tensorboard"))


class _Clock:
    """The step, images seen and seconds since :meth:`Trainer.run` began: the throughput it reports."""

    def __init__(self, step: int) -> None:
        self.start, self.first_step, self.images = time.perf_counter(), step, 0

    def seconds(self) -> float:
        return time.perf_counter() - self.start

    def rate(self) -> float:
        return self.images / max(self.seconds(), 1e-9)


# -- callbacks: what happens around each step and at the end of a run -----------------------------------


class Callback:
    """A hook of :meth:`Trainer.run`: ``on_start`` before the first step, ``on_step`` after every step (``loss``
    None for a skipped batch), ``on_end`` once with the summary, which it may extend. The default does nothing."""

    def on_start(self, trainer: Trainer) -> None:
        pass

    def on_step(self, trainer: Trainer, loss: float | None) -> None:
        pass

    def on_end(self, trainer: Trainer, summary: dict) -> None:
        pass


class ProgressLog(Callback):
    """The progress bar (rank 0), and loss, learning rate and images/s every ``log_every`` steps into the
    history and TensorBoard."""

    def on_start(self, trainer: Trainer) -> None:
        self.bar = tqdm(total=trainer.config.total_steps, initial=trainer.step, desc="training",
                        disable=trainer.rank != 0)

    def on_step(self, trainer: Trainer, loss: float | None) -> None:
        config = trainer.config
        rate, lr = trainer.clock.rate(), trainer.scheduler.get_last_lr()[0]
        self.bar.update(1)
        if loss is not None:
            self.bar.set_postfix(loss=f"{loss:.3f}", img_s=f"{rate:.1f}")
        if trainer.step % config.log_every == 0 or trainer.step == config.total_steps:
            trainer.history.append({"step": trainer.step, "loss": loss, "lr": lr, "images_per_second": rate})
            if trainer.writer is not None and loss is not None:
                for name, value in (("loss", loss), ("lr", lr), ("images_per_second", rate)):
                    trainer.writer.add_scalar(f"train/{name}", value, trainer.step)

    def on_end(self, trainer: Trainer, summary: dict) -> None:
        self.bar.close()


class Checks(Callback):
    """Every ``verify_every`` steps and at the end: the verification benchmark (``verify_benchmark``) and the
    held-out identities' student-teacher cosine, into the history; the final values into the summary."""

    def on_step(self, trainer: Trainer, loss: float | None) -> None:
        every, step = trainer.config.verify_every, trainer.step
        if every and step % every == 0 and step < trainer.config.total_steps:
            self.measure(trainer)

    def on_end(self, trainer: Trainer, summary: dict) -> None:
        summary.update(self.measure(trainer))

    @staticmethod
    def measure(trainer: Trainer) -> dict:
        name = trainer.config.verify_benchmark
        key = f"{name.replace('-', '_')}_accuracy" if name else "lfw_accuracy"
        return {key: trainer.record(key, trainer.verify()),
                "holdout_teacher_cosine": trainer.record("holdout_teacher_cosine", trainer.holdout_cosine())}


class Checkpoints(Callback):
    """This rank's checkpoint every ``checkpoint_every`` steps and at ``total_steps``."""

    def on_step(self, trainer: Trainer, loss: float | None) -> None:
        if trainer.step % trainer.config.checkpoint_every == 0 or trainer.step == trainer.config.total_steps:
            trainer.save_checkpoint()


class Export(Callback):
    """At the end (rank 0): the model's weights (``<model>_<space>.safetensors``) and ``summary.json``."""

    def on_end(self, trainer: Trainer, summary: dict) -> None:
        if trainer.rank == 0:
            config = trainer.config
            save_weights(trainer.model, trainer.output / f"{config.model}_{config.space}.safetensors",
                         space=config.space, steps=str(trainer.step))
            with atomic_path(trainer.summary_path()) as tmp:
                tmp.write_text(json.dumps(summary, indent=1))


def default_callbacks() -> list[Callback]:
    """What a training run does around its steps, in order: log, check, checkpoint, export."""
    return [ProgressLog(), Checks(), Checkpoints(), Export()]


def train(config: TrainConfig, resume: bool = False, overwrite: bool = False) -> dict:
    """Train with ``config`` (see :class:`Trainer`); returns the summary."""
    if not math.isfinite(config.lr) or config.lr <= 0:
        raise ValueError(f"lr must be a positive number; got {config.lr}")
    return Trainer(config, resume, overwrite).run()
