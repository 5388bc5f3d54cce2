"""The training loop: learning, exact resume after SIGKILL, errors that name the step or record, DDP."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.multiprocessing as mp

from facelib.data.recordio import RecordError
from facelib.train.config import TrainConfig, load_config
from facelib.train.loop import Callback, NonFiniteLossError, Trainer, learning_rate_factor, train


def _config(pack: Path, output: Path, **changes) -> TrainConfig:
    base = TrainConfig(data=str(pack), output=str(output), model="mobilefacenet", space="roi_tanh_polar",
                       embedding_size=32, loss_args={"s": 16.0, "m": 0.2}, batch_size=8, lr=0.05, warmup_steps=2,
                       total_steps=6, checkpoint_every=2, verify_benchmark="", num_workers=0, log_every=1,
                       channels_last=False)
    return base.replace(**changes)


def test_training_reduces_the_loss_and_writes_weights(tiny_pack, tmp_path):
    summary = train(_config(tiny_pack, tmp_path / "run", total_steps=18, lr=0.1))
    history = torch.load(tmp_path / "run" / "checkpoint-rank0.pt", weights_only=True)["history"]
    losses = [h["loss"] for h in history if h.get("loss") is not None]
    assert sum(losses[-4:]) / 4 < 0.6 * sum(losses[:4]) / 4
    assert summary["steps"] == 18 and summary["classes"] == 6 and summary["images"] == 48
    assert (tmp_path / "run" / "mobilefacenet_roi_tanh_polar.safetensors").is_file()
    assert (tmp_path / "run" / "summary.json").is_file()


def test_callbacks_see_every_step_and_extend_the_summary(tiny_pack, tmp_path):
    class Counter(Callback):
        def __init__(self):
            self.started, self.steps = 0, []

        def on_start(self, trainer):
            self.started += 1

        def on_step(self, trainer, loss):
            self.steps.append((trainer.step, loss))

        def on_end(self, trainer, summary):
            summary["counted"] = len(self.steps)

    counter = Counter()
    trainer = Trainer(_config(tiny_pack, tmp_path / "run", total_steps=5), callbacks=[counter])
    first = trainer.run(steps=2)  # part of the run, then the rest: the way a benchmark times steps
    assert first["steps"] == 2 and first["counted"] == 2
    summary = trainer.run()
    assert counter.started == 2 and [s for s, _ in counter.steps] == [1, 2, 3, 4, 5]
    assert all(isinstance(loss, float) for _, loss in counter.steps)
    assert summary["steps"] == 5 and summary["steps_this_run"] == 3 and summary["counted"] == 5
    assert not (tmp_path / "run" / "summary.json").exists()  # no Export callback: nothing written
    assert not list((tmp_path / "run").glob("*.pt"))  # no Checkpoints callback


def test_the_checks_run_the_verification_pipeline_on_the_configured_benchmark(tiny_pack, tmp_path, data_env):
    summary = train(_config(tiny_pack, tmp_path / "run", total_steps=2, verify_benchmark="lfw", verify_pairs=20,
                            verify_every=1))
    history = [h for h in torch.load(tmp_path / "run" / "checkpoint-rank0.pt", weights_only=True)["history"]
               if "lfw_accuracy" in h]
    assert [h["step"] for h in history] == [1]  # every verify_every steps before the end (the end: the summary)
    assert 0.0 <= summary["lfw_accuracy"] <= 1.0 and summary["lfw_accuracy"] * 20 == round(summary["lfw_accuracy"] * 20)
    assert TrainConfig(data="d", output="o").verify_benchmark == "lfw"
    with pytest.raises(ValueError, match="verify_benchmark"):
        TrainConfig(data="d", output="o", verify_benchmark="lfw2")


CONFIG_FILE = """
from facelib.train.config import TrainConfig
config = TrainConfig(data={data!r}, output={output!r}, model="mobilefacenet", space="roi_tanh_polar",
                     embedding_size=32, loss_args={{"s": 16.0, "m": 0.2}}, batch_size=8, lr=0.05, warmup_steps=2,
                     total_steps=6, checkpoint_every=2, verify_benchmark="", num_workers=0, log_every=1,
                     channels_last=False, sample_rate=0.7)
"""


KILL_AFTER_STEP_5 = """
import os, signal, sys
from facelib.train.config import load_config
from facelib.train.loop import Callback, Trainer, default_callbacks

class KillAfterStep5(Callback):
    def on_step(self, trainer, loss):
        if trainer.step == 5:
            os.kill(os.getpid(), signal.SIGKILL)

Trainer(load_config(sys.argv[1]), callbacks=default_callbacks() + [KillAfterStep5()]).run()
"""


def _child_env() -> dict[str, str]:
    """The environment of a training child process: one thread each (the suite shares two cores), unbuffered."""
    return dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONUNBUFFERED="1")


def _run_cli(config: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "facelib", "train", "--config", str(config), *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=_child_env())


def test_sigkill_then_resume_gives_the_weights_of_an_uninterrupted_run(tiny_pack, tmp_path):
    for name in ("straight", "killed"):
        (tmp_path / f"{name}.py").write_text(CONFIG_FILE.format(data=str(tiny_pack),
                                                                output=str(tmp_path / name)))
    straight = _run_cli(tmp_path / "straight.py")
    assert straight.wait(timeout=600) == 0, straight.stdout.read().decode()[-2000:]

    # The killed run SIGKILLs itself right after step 5, when the step-4 checkpoint is on disk and the step-6 one is
    # not: polling the checkpoint from here raced the two fast steps left and sometimes saw the run finish first.
    killer = tmp_path / "kill_after_step_5.py"
    killer.write_text(KILL_AFTER_STEP_5)
    killed = subprocess.run([sys.executable, str(killer), str(tmp_path / "killed.py")], env=_child_env(), timeout=600,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert killed.returncode == -signal.SIGKILL, killed.stdout.decode()[-2000:]
    checkpoint = tmp_path / "killed" / "checkpoint-rank0.pt"
    step = torch.load(checkpoint, weights_only=True)["step"]
    assert step == 4, "the run was not interrupted mid-way"
    resumed = _run_cli(tmp_path / "killed.py", "--resume")
    assert resumed.wait(timeout=600) == 0, resumed.stdout.read().decode()[-2000:]

    final = [torch.load(tmp_path / n / "checkpoint-rank0.pt", weights_only=True) for n in ("straight", "killed")]
    assert final[0]["step"] == final[1]["step"] == 6
    for key, value in final[0]["model"].items():
        assert torch.equal(value, final[1]["model"][key]), key
    assert torch.equal(final[0]["classifier"]["weight"], final[1]["classifier"]["weight"])
    assert not list((tmp_path / "killed").glob("*.tmp"))


def test_nonfinite_loss_stops_naming_the_step_or_is_skipped(tiny_pack, tmp_path):
    with pytest.raises(NonFiniteLossError, match=r"at step \d+"):
        train(_config(tiny_pack, tmp_path / "a", lr=1e30, warmup_steps=0, grad_clip=0))
    summary = train(_config(tiny_pack, tmp_path / "b", lr=1e30, warmup_steps=0, grad_clip=0, on_nonfinite="skip"))
    assert summary["skipped_batches"] > 0


def test_an_undecodable_image_is_named_or_skipped_and_counted(tiny_pack, tmp_path):
    from facelib.data.recordio import RecordReader, RecordWriter, pack_image_record, unpack_image_record

    reader = RecordReader(tiny_pack / "train.rec", tiny_pack / "train.idx")
    broken = tmp_path / "broken"
    broken.mkdir()
    with RecordWriter(broken / "train.rec", broken / "train.idx") as writer:
        for key in reader.keys():
            payload = reader.read(key)
            if key == 3:
                header, _ = unpack_image_record(payload)
                payload = pack_image_record(header.label, b"this is not a jpeg", id=header.id)
            writer.write(key, payload)
    (broken / "property").write_text((tiny_pack / "property").read_text())
    with pytest.raises(RecordError, match="record 3: undecodable image"):
        train(_config(broken, tmp_path / "a", total_steps=6))
    summary = train(_config(broken, tmp_path / "b", total_steps=6, on_bad_image="skip"))
    assert summary["skipped_images"] == 1


def test_config_files_and_overrides(tmp_path):
    recipe = load_config(Path(__file__).parents[2] / "configs" / "cpu_mobilefacenet.py",
                         ["batch_size=16", "space=roi_tanh", "loss_args={'s': 30.0, 'm': 0.4}"])
    assert (recipe.batch_size, recipe.space, recipe.loss_args["m"]) == (16, "roi_tanh", 0.4)
    assert load_config(Path(__file__).parents[2] / "configs" / "ms1mv3_r50.py").model == "iresnet50"
    with pytest.raises(ValueError, match="unknown config field"):
        load_config(Path(__file__).parents[2] / "configs" / "cpu_mobilefacenet.py", ["batchsize=3"])
    with pytest.raises(FileNotFoundError, match="config file not found"):
        load_config(tmp_path / "nope.py")


def test_learning_rate_schedule():
    config = TrainConfig(warmup_steps=10, total_steps=110)
    assert learning_rate_factor(config, 0) == pytest.approx(0.1)
    assert learning_rate_factor(config, 9) == pytest.approx(1.0)
    assert learning_rate_factor(config, 60) == pytest.approx(0.25)
    assert learning_rate_factor(config, 110) == 0.0
    step = config.replace(schedule="step", decay_steps=(50, 80))
    assert [learning_rate_factor(step, s) for s in (20, 50, 90)] == pytest.approx([1.0, 0.1, 0.01])


def _ddp_worker(rank: int, world: int, port: int, pack: str, output: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE=str(world),
                      LOCAL_RANK=str(rank))
    torch.set_num_threads(1)
    config = _config(Path(pack), Path(output), total_steps=2, checkpoint_every=1, batch_size=4, device="cpu")
    train(config)
    torch.distributed.barrier()  # both ranks are done talking before either tears gloo down
    torch.distributed.destroy_process_group()
    sys.stdout.flush()  # and it ends without the interpreter's exit, where gloo's threads have rarely aborted
    sys.stderr.flush()  # a finished rank (see tests/train/test_partial_fc.py)
    os._exit(0)


def test_two_gloo_processes_train_one_model(tiny_pack, tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    mp.spawn(_ddp_worker, args=(2, port, str(tiny_pack), str(tmp_path / "ddp")), nprocs=2, join=True)
    states = [torch.load(tmp_path / "ddp" / f"checkpoint-rank{r}.pt", weights_only=True) for r in range(2)]
    assert states[0]["world"] == 2 and states[0]["step"] == 2
    from facelib.models import create_model

    parameters = {name for name, _ in create_model("mobilefacenet", 32).named_parameters()}
    for key in parameters:  # both ranks hold the same weights (DDP broadcasts BN statistics from rank 0
        assert torch.equal(states[0]["model"][key], states[1]["model"][key]), key  # at each forward)
    assert states[0]["classifier"]["weight"].shape == (3, 32)  # 6 classes sharded over 2 ranks


def test_pack_command_detects_aligns_and_writes_the_ms1m_layout(data_env, tmp_path, capsys):
    import shutil

    from facelib import cli
    from facelib.data.lfw import image_path
    from facelib.data.recordio import MS1MRecords

    for person, numbers in (("Colin_Powell", (1, 2, 3)), ("Serena_Williams", (1, 2))):
        (tmp_path / "faces" / person).mkdir(parents=True)
        for n in numbers:
            shutil.copy(image_path(person, n), tmp_path / "faces" / person)
    assert cli.main(["pack", str(tmp_path / "faces"), str(tmp_path / "pack")]) == 0
    assert "5 images of 2 identities" in capsys.readouterr().out
    records = MS1MRecords(tmp_path / "pack")
    assert [label for _, label in records.samples()] == [0, 0, 0, 1, 1] and records.num_classes == 2


class _Payload:
    """Unpickling this runs a shell command that leaves a marker file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def test_a_malicious_checkpoint_is_refused_and_runs_nothing(tiny_pack, tmp_path):
    from facelib.train.loop import CheckpointError

    train(_config(tiny_pack, tmp_path / "run", total_steps=2))
    marker = tmp_path / "pwned"
    torch.save({"step": _Payload(marker)}, tmp_path / "run" / "checkpoint-rank0.pt")
    (tmp_path / "run" / "checkpoint-rank0.previous.pt").unlink(missing_ok=True)
    with pytest.raises(CheckpointError, match="checkpoint-rank0.pt") as refused:
        train(_config(tiny_pack, tmp_path / "run", total_steps=4), resume=True)
    assert not marker.exists()
    # one plain line naming what it would have unpickled: no terminal colours, never torch's weights_only=False hint
    message = str(refused.value)
    assert "it asks to unpickle posix.system" in message and "refused" in message
    assert "\x1b[" not in message and "weights_only" not in message and "\n" not in message


def test_a_new_run_never_overwrites_an_earlier_one(tiny_pack, tmp_path):
    train(_config(tiny_pack, tmp_path / "run", total_steps=2))
    before = (tmp_path / "run" / "checkpoint-rank0.pt").read_bytes()
    with pytest.raises(FileExistsError, match="--resume"):
        train(_config(tiny_pack, tmp_path / "run", total_steps=2))
    assert (tmp_path / "run" / "checkpoint-rank0.pt").read_bytes() == before
    train(_config(tiny_pack, tmp_path / "run", total_steps=2), overwrite=True)


def test_a_damaged_latest_checkpoint_falls_back_to_the_previous_one(tiny_pack, tmp_path, caplog):
    train(_config(tiny_pack, tmp_path / "run", total_steps=4, checkpoint_every=2))
    latest = tmp_path / "run" / "checkpoint-rank0.pt"
    assert torch.load(tmp_path / "run" / "checkpoint-rank0.previous.pt", weights_only=True)["step"] == 2
    latest.write_bytes(latest.read_bytes()[:1000])
    summary = train(_config(tiny_pack, tmp_path / "run", total_steps=6, checkpoint_every=2), resume=True)
    assert summary["steps_this_run"] == 4  # resumed at step 2
    assert "previous checkpoint" in caplog.text


def test_bf16_on_a_cpu_without_native_bf16_warns_with_the_fix(tiny_pack, tmp_path, monkeypatch, caplog):
    import facelib.train.loop as loop

    for native, expected in ((False, True), (True, False)):
        caplog.clear()
        monkeypatch.setattr(loop, "cpu_has_fast_bf16", lambda native=native: native)
        Trainer(_config(tiny_pack, tmp_path / f"run{native}", amp="bf16"))
        assert ("--set amp=none" in caplog.text) == expected, caplog.text
    caplog.clear()
    monkeypatch.setattr(loop, "cpu_has_fast_bf16", lambda: False)
    Trainer(_config(tiny_pack, tmp_path / "fp32", amp="none"))
    assert "bf16" not in caplog.text


def test_short_runs_take_bf16_only_where_it_is_native(monkeypatch):
    import facelib.embed as embed
    from facelib.train.config import fast_amp

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    for native, expected in ((False, "none"), (True, "bf16")):
        monkeypatch.setattr(embed, "cpu_has_fast_bf16", lambda native=native: native)
        assert fast_amp("auto") == fast_amp("cpu") == expected
        assert fast_amp("cuda:0") == "bf16"  # a GPU computes bf16 natively


def test_resuming_a_finished_run_keeps_its_summary_and_weights(tiny_pack, tmp_path, caplog):
    caplog.set_level("INFO", logger="facelib.train.loop")
    config = _config(tiny_pack, tmp_path / "run", total_steps=4)
    summary = train(config)
    files = {name: (tmp_path / "run" / name).read_bytes()
             for name in ("summary.json", "mobilefacenet_roi_tanh_polar.safetensors")}
    assert summary["steps_this_run"] == 4 and summary["seconds"] > 0
    again = train(config, resume=True)
    assert again == json.loads(files["summary.json"])  # not a summary of 0 steps in 0 seconds
    assert {name: (tmp_path / "run" / name).read_bytes() for name in files} == files
    assert "already finished at step 4" in caplog.text
    (tmp_path / "run" / "summary.json").unlink()  # killed between the last checkpoint and the export
    assert train(config, resume=True)["steps"] == 4 and (tmp_path / "run" / "summary.json").is_file()


def test_resuming_under_a_shape_changing_config_is_refused(tiny_pack, tmp_path):
    from facelib.train.loop import CheckpointError

    train(_config(tiny_pack, tmp_path / "run", total_steps=2))
    with pytest.raises(CheckpointError, match="embedding_size was 32, now 64"):
        train(_config(tiny_pack, tmp_path / "run", total_steps=4, embedding_size=64), resume=True)


@pytest.mark.parametrize(("override", "message"), [
    ("total_steps=abc", "total_steps must be int; got 'abc'"),
    ("total_steps=2.5", "total_steps must be int; got 2.5"),
    ("lr=float('nan')", "lr must be float"),
    ("on_nonfinite=ignore", "on_nonfinite must be one of 'stop', 'skip'"),
    ("schedule=linear", "schedule must be one of"),
    ("checkpoint_every=0", "checkpoint_every must be >= 1"),
    ("device=cuda:1", "no CUDA device" if not torch.cuda.is_available() else "CUDA device(s)"),
    ("loss_args={'m': 'x'}", "loss_args['m'] must be a finite number; got 'x'"),
    ("loss_args={'margin': 0.5}", "loss_args has unknown key(s) margin for loss 'arcface'; known: s, m"),
    ("augment={'rotate': 1.0}", "augment has unknown key(s) rotate; known: max_shift"),
    ("augment={'flip': 'yes'}", "augment['flip'] must be a bool"),
])
def test_bad_overrides_are_refused_before_training_with_the_field(tiny_pack, tmp_path, capsys, override, message):
    from facelib import cli

    config = tmp_path / "recipe.py"
    config.write_text(CONFIG_FILE.format(data=str(tiny_pack), output=str(tmp_path / "run")))
    assert cli.main(["train", "--config", str(config), "--set", override]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "run" / "checkpoint-rank0.pt").exists()


def test_cli_shows_training_failures_as_one_message(tiny_pack, tmp_path, capsys):
    from facelib import cli

    config = tmp_path / "recipe.py"
    config.write_text(CONFIG_FILE.format(data=str(tiny_pack), output=str(tmp_path / "run")))
    assert cli.main(["train", "--config", str(config)]) == 0
    assert cli.main(["train", "--config", str(config)]) == 2  # the earlier run's checkpoints are kept
    assert "--resume" in capsys.readouterr().err
    assert cli.main(["train", "--config", str(config), "--overwrite", "--set", "lr=1e30", "--set",
                     "grad_clip=0.0"]) == 2
    err = capsys.readouterr().err
    assert "facelib train: the loss is" in err and "at step" in err and "Traceback" not in err
    (tmp_path / "run" / "checkpoint-rank0.pt").write_bytes(b"garbage")
    (tmp_path / "run" / "checkpoint-rank0.previous.pt").unlink(missing_ok=True)
    assert cli.main(["train", "--config", str(config), "--resume"]) == 2
    assert "damaged or not a facelib checkpoint" in capsys.readouterr().err


def test_a_warm_start_begins_from_the_given_weights_file(tiny_pack, tmp_path):
    from facelib.data.fetch import sha256sum
    from facelib.weights import read_state_dict

    train(_config(tiny_pack, tmp_path / "first", total_steps=2))
    weights = tmp_path / "first" / "mobilefacenet_roi_tanh_polar.safetensors"
    trainer = Trainer(_config(tiny_pack, tmp_path / "second", init_weights=str(weights)), callbacks=[])
    state, _ = read_state_dict(weights)
    assert all(torch.equal(value, state[key].to(value.dtype)) for key, value in trainer.model.state_dict().items())
    fresh, first = Trainer(_config(tiny_pack, tmp_path / "third"), callbacks=[]), next(iter(state))
    assert not torch.equal(fresh.model.state_dict()[first], state[first].float())
    summary = trainer.run(steps=1)
    assert summary["init_weights"] == str(weights) and summary["init_weights_sha256"] == sha256sum(weights)


def test_a_resumed_warm_start_still_names_its_initial_weights(tiny_pack, tmp_path):
    """The summary a model card is made from names the warm start after a resume too, also from a checkpoint
    written before checkpoints stored it (then read from the file as it is now)."""
    from facelib.data.fetch import sha256sum

    train(_config(tiny_pack, tmp_path / "first", total_steps=2))
    weights = tmp_path / "first" / "mobilefacenet_roi_tanh_polar.safetensors"
    config = _config(tiny_pack, tmp_path / "second", total_steps=3, init_weights=str(weights))
    trainer = Trainer(config, callbacks=[])
    trainer.run(steps=1)
    checkpoint = trainer.save_checkpoint()
    stored = torch.load(checkpoint, weights_only=True)
    assert stored["warm_start"] == {"init_weights": str(weights), "init_weights_sha256": sha256sum(weights)}
    summary = Trainer(config, resume=True, callbacks=[]).run(steps=1)
    assert (summary["steps"], summary["steps_this_run"]) == (2, 1)
    assert summary["init_weights"] == str(weights) and summary["init_weights_sha256"] == sha256sum(weights)
    del stored["warm_start"]
    torch.save(stored, checkpoint)
    summary = Trainer(config, resume=True, callbacks=[]).run(steps=1)
    assert summary["init_weights"] == str(weights) and summary["init_weights_sha256"] == sha256sum(weights)
    plain = _config(tiny_pack, tmp_path / "third", total_steps=3)
    Trainer(plain, callbacks=[]).save_checkpoint()
    assert "init_weights" not in Trainer(plain, resume=True, callbacks=[]).run(steps=1)


def test_a_warm_start_from_a_registered_model_is_checked_against_the_run(tiny_pack, tmp_path):
    from facelib.weights import find_weights, read_state_dict

    entry = find_weights(name="mobilefacenet_roi_tanh_polar.distill_pool")
    config = _config(tiny_pack, tmp_path / "run", embedding_size=entry.embedding_size, init_weights=entry.key)
    trainer = Trainer(config, callbacks=[])
    state, _ = read_state_dict(entry.path)  # float16 on disk, float32 in training
    assert all(torch.equal(value, state[key].float()) for key, value in trainer.model.state_dict().items()
               if value.is_floating_point())
    with pytest.raises(ValueError, match="roi_tanh_polar space.*this run trains a mobilefacenet in cartesian"):
        Trainer(config.replace(space="cartesian", output=str(tmp_path / "b")), callbacks=[])
    with pytest.raises(ValueError, match="128-d embeddings; this run .* 32-d"):
        Trainer(config.replace(embedding_size=32, output=str(tmp_path / "c")), callbacks=[])
    with pytest.raises(FileNotFoundError, match="'no_such_model' is neither a registered model .*"
                                                "mobilefacenet_roi_tanh_polar.distill_pool"):
        Trainer(config.replace(init_weights="no_such_model", output=str(tmp_path / "d")), callbacks=[])


def test_compile_steps_through_the_compiled_net_and_saves_the_plain_model(tiny_pack, tmp_path, monkeypatch):
    class Compiled(torch.nn.Module):  # what torch.compile returns: a wrapper holding the module as _orig_mod
        def __init__(self, net):
            super().__init__()
            self._orig_mod, self.calls = net, 0

        def forward(self, *args):
            self.calls += 1
            return self._orig_mod(*args)

    monkeypatch.setattr(torch, "compile", Compiled)
    trainer = Trainer(_config(tiny_pack, tmp_path / "run", total_steps=4, compile=True), callbacks=[])
    trainer.run()
    assert isinstance(trainer.net, Compiled) and trainer.net.calls == 4  # every training step, nothing else
    trainer.save_checkpoint()
    saved = torch.load(trainer.checkpoint_path(), weights_only=True)["model"]
    assert list(saved) == list(trainer.model.state_dict()) and not any("_orig_mod" in k for k in saved)
    # ... so a compiled run resumes without compiling, and the other way round
    resumed = Trainer(_config(tiny_pack, tmp_path / "run", total_steps=6), resume=True, callbacks=[])
    assert resumed.step == 4 and resumed.net is resumed.model


def test_compile_without_a_compiler_is_refused_before_training(tiny_pack, tmp_path, monkeypatch):
    monkeypatch.setattr("facelib.train.loop.shutil.which", lambda name: None)
    with pytest.raises(RuntimeError, match=r"compile=True needs a C\+\+ compiler .* install g\+\+ or set "
                                           r"compile=False"):
        Trainer(_config(tiny_pack, tmp_path / "run", compile=True), callbacks=[])


def test_a_compiled_step_matches_the_eager_one(tiny_pack, tmp_path):
    """Really compiled (Inductor, ~1-2 min on two cores): the same loss, and the same update of the weights up to
    float rounding (the fused kernels sum in another order)."""
    runs = {}
    for compiled in (False, True):
        trainer = Trainer(_config(tiny_pack, tmp_path / str(compiled), total_steps=2, compile=compiled),
                          callbacks=[])
        before = torch.cat([p.detach().flatten().clone() for p in trainer.model.parameters()])
        summary = trainer.run()
        after = torch.cat([p.detach().flatten() for p in trainer.model.parameters()])
        runs[compiled] = summary["final_loss"], before, after - before
    assert runs[True][0] == pytest.approx(runs[False][0], rel=1e-3)
    assert torch.equal(runs[True][1], runs[False][1])  # the same initial weights (seeded) ...
    cosine = torch.nn.functional.cosine_similarity(runs[True][2], runs[False][2], dim=0)
    assert cosine > 0.99 and runs[True][2].norm() == pytest.approx(runs[False][2].norm(), rel=0.02)  # ... moved alike


@pytest.mark.parametrize("path", sorted((Path(__file__).parents[2] / "configs").glob("*.*_pool*.py")),
                         ids=lambda p: p.stem)
def test_every_zoo_recipe_is_the_one_recipe_with_its_documented_changes(path):
    import ast
    import dataclasses

    from facelib.train.config import distill_recipe

    config = load_config(path)
    base = distill_recipe(config.space)
    changed = {f.name for f in dataclasses.fields(config) if getattr(config, f.name) != getattr(base, f.name)}
    doc = " ".join(ast.get_docstring(ast.parse(path.read_text())).split())  # as one line
    if "model" in changed:  # only the teacher-initialised row trains another network: SFace's, from its weights
        assert (config.model, config.init_weights) == ("sfacenet", "sface") and "not known to be" in doc
        changed.remove("model")
    assert changed <= {"output", "total_steps", "checkpoint_every", "verify_every", "augment", "init_weights", "lr",
                       "compile", "mixup_faces", "mixup_draw"}
    assert f"{config.total_steps:,} steps" in doc  # the docstring states the budget it trains
    if "mixup_faces" in changed:  # more faces, labelled by the teacher: a recipe that adds them says how many
        assert f"{config.mixup_faces:,} mixed faces" in doc
    if "lr" in changed:  # a recipe that starts lower says so in its docstring
        assert np.format_float_scientific(config.lr, trim="-", exp_digits=1) in doc
    assert config.output == "runs/" + path.stem and path.stem in doc
    assert {k: v for k, v in config.augment.items() if k != "max_rotation"} == \
        {k: v for k, v in base.augment.items() if k != "max_rotation"}
    assert config.init_weights in ("", "sface")  # one run from scratch (or from SFace): no chain of warm starts


KILL_DURING_THE_STEP_4_SAVE = """
import os, signal, sys
from facelib.train.config import load_config
from facelib.train.loop import Trainer

real_replace = os.replace
def replace(src, dst, *args, **kwargs):
    # the moment the step-4 checkpoint, written in full, is about to be renamed over the current one
    if str(dst).endswith("checkpoint-rank0.pt") and trainer.step == 4:
        os.kill(os.getpid(), signal.SIGKILL)
    return real_replace(src, dst, *args, **kwargs)
os.replace = replace

trainer = Trainer(load_config(sys.argv[1]))
trainer.run()
"""


def test_a_kill_between_the_renames_of_a_save_loses_nothing_and_resume_continues(tiny_pack, tmp_path):
    for name in ("straight", "killed"):
        (tmp_path / f"{name}.py").write_text(CONFIG_FILE.format(data=str(tiny_pack), output=str(tmp_path / name)))
    assert _run_cli(tmp_path / "straight.py").wait(timeout=600) == 0
    killer = tmp_path / "kill_during_save.py"
    killer.write_text(KILL_DURING_THE_STEP_4_SAVE)
    killed = subprocess.run([sys.executable, str(killer), str(tmp_path / "killed.py")], env=_child_env(), timeout=600,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert killed.returncode == -signal.SIGKILL, killed.stdout.decode()[-2000:]
    run = tmp_path / "killed"
    # a checkpoint survives the kill (the step-2 one: the step-4 file was complete but not yet in place)
    assert torch.load(run / "checkpoint-rank0.pt", weights_only=True)["step"] == 2
    plain = _run_cli(tmp_path / "killed.py")  # a plain rerun refuses to start over it
    assert plain.wait(timeout=600) != 0 and b"--resume" in plain.stdout.read()
    resumed = _run_cli(tmp_path / "killed.py", "--resume")
    assert resumed.wait(timeout=600) == 0, resumed.stdout.read().decode()[-2000:]
    final = [torch.load(tmp_path / n / "checkpoint-rank0.pt", weights_only=True) for n in ("straight", "killed")]
    assert final[1]["step"] == 6
    assert all(torch.equal(v, final[1]["model"][k]) for k, v in final[0]["model"].items())


def test_resume_takes_the_previous_checkpoint_when_the_current_one_is_missing(tiny_pack, tmp_path, caplog):
    train(_config(tiny_pack, tmp_path / "run", total_steps=4, checkpoint_every=2))
    (tmp_path / "run" / "checkpoint-rank0.pt").unlink()
    with pytest.raises(FileExistsError, match="checkpoint-rank0.previous.pt.*--resume"):
        train(_config(tiny_pack, tmp_path / "run", total_steps=6))
    summary = train(_config(tiny_pack, tmp_path / "run", total_steps=6, checkpoint_every=2), resume=True)
    assert summary["steps_this_run"] == 4 and "resuming from the previous one" in caplog.text


def test_resuming_in_another_space_or_on_data_with_other_classes_is_refused(identities, tmp_path):
    from facelib.data.recordio import write_ms1m
    from facelib.train.loop import CheckpointError

    pack = write_ms1m(tmp_path / "pack", identities)
    train(_config(pack, tmp_path / "run", total_steps=2))
    with pytest.raises(CheckpointError, match="space was 'roi_tanh_polar', now 'cartesian'"):
        Trainer(_config(pack, tmp_path / "run", total_steps=4, space="cartesian"), resume=True, callbacks=[])
    write_ms1m(tmp_path / "pack", identities + identities[:1])  # the same path, one class more
    with pytest.raises(CheckpointError, match=r"the training data changed .*shape \(\d+, 32\).*\(\d+, 32\)"):
        Trainer(_config(pack, tmp_path / "run", total_steps=4), resume=True, callbacks=[])


def test_falling_back_to_the_previous_checkpoint_keeps_it_and_sets_the_damaged_one_aside(tiny_pack, tmp_path):
    train(_config(tiny_pack, tmp_path / "run", total_steps=4, checkpoint_every=2))
    run = tmp_path / "run"
    good = (run / "checkpoint-rank0.previous.pt").read_bytes()
    (run / "checkpoint-rank0.pt").write_bytes(b"damaged")
    trainer = Trainer(_config(tiny_pack, run, total_steps=6, checkpoint_every=2), resume=True, callbacks=[])
    assert (run / "checkpoint-rank0.damaged.pt").read_bytes() == b"damaged"
    trainer.step += 1
    trainer.save_checkpoint()  # the next save keeps the good step-2 file as the previous one
    assert (run / "checkpoint-rank0.previous.pt").read_bytes() == good


HOLD_THE_RUN = """
import sys, time
from facelib.train.config import load_config
from facelib.train.loop import Trainer
trainer = Trainer(load_config(sys.argv[1]), callbacks=[])
print("holding", flush=True)
time.sleep(120)
"""


def test_two_trainings_into_one_output_folder_are_refused_naming_the_holder(tiny_pack, tmp_path):
    (tmp_path / "run.py").write_text(CONFIG_FILE.format(data=str(tiny_pack), output=str(tmp_path / "run")))
    (tmp_path / "hold.py").write_text(HOLD_THE_RUN)
    holder = subprocess.Popen([sys.executable, str(tmp_path / "hold.py"), str(tmp_path / "run.py")],
                              stdout=subprocess.PIPE, env=_child_env())
    try:
        assert holder.stdout.readline().strip() == b"holding"
        second = _run_cli(tmp_path / "run.py")
        output = second.communicate(timeout=600)[0].decode()
        assert second.returncode == 2 and f"in use by another training (pid {holder.pid} on " in output
        assert "Traceback" not in output
    finally:
        holder.kill()
        holder.wait()
    assert _run_cli(tmp_path / "run.py").wait(timeout=600) == 0  # the lock died with its process


def test_a_config_that_is_not_a_recipe_or_fails_is_one_line_naming_the_file(tmp_path, capsys):
    from facelib import cli

    notes = tmp_path / "notes.txt"
    notes.write_text("total_steps = 10\n")
    broken = tmp_path / "broken.py"
    broken.write_text("from facelib.train.config import TrainConfig\n\nconfig = TrainConfig(\n")
    failing = tmp_path / "failing.py"
    failing.write_text("from facelib.train.config import TrainConfig\n\nsteps = 10 // 0\nconfig = TrainConfig()\n")
    empty = tmp_path / "empty.py"
    empty.write_text("steps = 10\n")
    for path, message in ((notes, "notes.txt is not a recipe: a recipe is a Python file"),
                          (broken, "broken.py is not a recipe: .*broken.py:3: "),
                          (failing, "the recipe failed at .*failing.py:3: ZeroDivisionError"),
                          (empty, "empty.py is not a recipe: it must define")):
        assert cli.main(["train", "--config", str(path)]) == 2
        err = capsys.readouterr().err
        assert "Traceback" not in err and len(err.strip().splitlines()) == 1
        import re

        assert re.search(message, err), err
