"""No lost runs: the run-directory lock, resuming a run that died before its first checkpoint, what a NaN
leaves behind, the metrics of a run stopped inside its first epoch, and what a resume says."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest
import torch

import genlab
from genlab.errors import NonFiniteLossError, RunLockedError
from genlab.training import Callback
from genlab.training.lock import lock_path, run_lock

SMALL = {"hidden_dims": (16,), "latent_dim": 2}
QUICK = {"overrides": SMALL, "batch_size": 256, "progress": False}  # digits: 6 steps per epoch


class Boom(Callback):
    """Raises ``exc`` at ``step``: a crash of the process at that point, as far as the run directory can tell."""

    def __init__(self, exc: BaseException, step: int) -> None:
        self.exc, self.step = exc, step

    def on_step_end(self, trainer, model, metrics):
        if trainer.step == self.step:
            raise self.exc


def test_a_second_run_into_a_locked_directory_fails_at_once_and_writes_nothing(tmp_path):
    out = tmp_path / "r"
    with run_lock(out):
        info = json.loads(lock_path(out).read_text())
        assert info["pid"] == os.getpid() and info["host"] == socket.gethostname()
        with pytest.raises(RunLockedError, match=rf"in use by another genlab run \(pid {os.getpid()} on "):
            genlab.train("vae", "digits", out=out, epochs=1, **QUICK)
        assert not out.exists()  # the refused run created nothing
    assert not lock_path(out).exists()  # released on exit
    genlab.train("vae", "digits", out=out, epochs=1, **QUICK)  # and the directory is free again
    assert not lock_path(out).exists()


def test_the_cli_refuses_a_locked_run_directory_in_one_line(tmp_path):
    out = tmp_path / "r"
    with run_lock(out):
        r = subprocess.run(
            [sys.executable, "-m", "genlab", "train", "vae", "--out", str(out), "--epochs", "1", "--quiet"],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "OMP_NUM_THREADS": "1"},
        )
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and f"pid {os.getpid()}" in r.stderr, r.stderr
    assert not out.exists()


def test_a_lock_left_by_a_dead_process_is_stale_and_taken_over(tmp_path):
    out = tmp_path / "r"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = {"pid": int(dead.stdout), "host": socket.gethostname(), "started": "2026-01-01T00:00:00"}
    lock_path(out).write_text(json.dumps(stale))  # what kill -9 leaves behind
    genlab.train("vae", "digits", out=out, epochs=1, **QUICK)
    assert json.loads((out / "run.json").read_text())["status"] == "completed"
    assert not lock_path(out).exists()


def test_the_lock_is_released_when_a_run_fails(tmp_path):
    out = tmp_path / "r"
    with pytest.raises(RuntimeError, match="crash"):
        genlab.train("vae", "digits", out=out, epochs=1, callbacks=[Boom(RuntimeError("crash"), 2)], **QUICK)
    assert not lock_path(out).exists()
    with run_lock(out):  # nobody holds it any more
        pass


def test_resume_of_a_run_that_died_before_its_first_checkpoint_starts_from_step_0(tmp_path):
    out = tmp_path / "r"
    with pytest.raises(KeyboardInterrupt):
        genlab.train("vae", "digits", out=out, epochs=2, callbacks=[Boom(KeyboardInterrupt(), 3)], **QUICK)
    assert not list((out / "checkpoints").glob("*.ckpt"))
    run = genlab.train("vae", out=out, resume=True, progress=False)  # one command, the recorded settings
    assert run.trainer.step == 2 * 6 and run.trainer.epochs == 2
    fresh = genlab.train("vae", "digits", out=tmp_path / "fresh", epochs=2, **QUICK)
    for (k, a), (_, b) in zip(run.model.state_dict().items(), fresh.model.state_dict().items(), strict=True):
        assert torch.equal(a, b), k  # exactly the run that was asked for in the first place
    assert json.loads((out / "run.json").read_text())["status"] == "completed"


def test_resume_without_a_checkpoint_says_it_starts_again(tmp_path, capsys):
    out = tmp_path / "r"
    with pytest.raises(KeyboardInterrupt):
        genlab.train("vae", "digits", out=out, epochs=1, callbacks=[Boom(KeyboardInterrupt(), 2)], **QUICK)
    capsys.readouterr()
    genlab.train("vae", out=out, resume=True, progress=True)
    assert "has no checkpoint" in capsys.readouterr().err


def test_nan_before_any_checkpoint_says_nothing_but_run_json_was_kept(tmp_path):
    out = tmp_path / "r"
    with pytest.raises(NonFiniteLossError) as err:
        genlab.train("vae", "digits", out=out, epochs=1, overrides={**SMALL, "lr": 1e6}, batch_size=256, progress=False)
    msg = str(err.value)
    assert "No checkpoint had been written yet" in msg and "run.json" in msg and "--overwrite" in msg
    assert "resume from" not in msg  # there is nothing to resume from
    assert json.loads((out / "run.json").read_text())["status"] == "failed"


def test_nan_after_a_checkpoint_names_the_checkpoint_that_was_kept(tmp_path):
    out = tmp_path / "r"
    with pytest.raises(NonFiniteLossError) as err:
        genlab.train(
            "vae",
            "digits",
            out=out,
            epochs=1,
            overrides={**SMALL, "lr": 1e6},
            batch_size=256,
            progress=False,
            checkpoint_every_steps=1,
        )
    kept = sorted((out / "checkpoints").glob("*.ckpt"))
    step = int(kept[-1].stem.split("-")[1])
    assert f"The last good checkpoint, {kept[-1]} (step {step}), is kept" in str(err.value)
    assert f"at step {step + 1} " in str(err.value)  # the checkpoint just before the step that failed


def test_a_run_stopped_inside_its_first_epoch_writes_metrics_and_a_loss_curve(tmp_path):
    out = tmp_path / "r"
    run = genlab.train("vae", "digits", out=out, epochs=2, max_steps=3, **QUICK)
    lines = (out / "metrics.csv").read_text().splitlines()
    assert lines[0].startswith("epoch,step,time,loss") and len(lines) == 2
    assert lines[1].split(",")[:2] == ["0.5", "3"]  # half of the first epoch (3 of 6 steps)
    assert (out / "loss_curve.png").is_file() and "loss_curve" in run.files
    assert json.loads((out / "run.json").read_text())["final_metrics"]["step"] == 3
    # the partial row is not checkpointed: the resumed run replaces it by the whole epoch
    genlab.train("vae", out=out, resume=True, max_steps=12, progress=False)
    epochs = [ln.split(",")[0] for ln in (out / "metrics.csv").read_text().splitlines()[1:]]
    assert epochs == ["1", "2"]


def test_resume_says_where_it_starts_and_when_there_is_nothing_to_do(tmp_path, capsys):
    out = tmp_path / "r"
    genlab.train("vae", "digits", out=out, epochs=1, **QUICK)
    capsys.readouterr()
    genlab.train("vae", out=out, resume=True, epochs=2, progress=True)
    assert "resuming" in (err := capsys.readouterr().err) and "step 6 (epoch 1 of 2 done)" in err
    genlab.train("vae", out=out, resume=True, progress=True)
    err = capsys.readouterr().err
    assert "already reached its target (epochs=2)" in err and "nothing to train" in err and "--epochs" in err
