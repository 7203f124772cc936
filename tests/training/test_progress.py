"""The progress utility (genlab.progress) and the training progress bar built on it: cadence off a terminal, the
tqdm bar on one, silence when disabled, intra-epoch lines, resumed counts and layer-wise stages."""

from __future__ import annotations

import io
import re

import pytest
import torch

import genlab
from genlab.data.dataset import as_dataset
from genlab.errors import ConfigError
from genlab.progress import INTERVAL_ENV, Progress, format_seconds, iterate, note, progress_interval
from genlab.training import Checkpoint, ProgressBar, Trainer
from genlab.training.layerwise import pretrain_layerwise


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


class FakeClock:
    """Advances ``dt`` seconds every time it is read."""

    def __init__(self, dt: float) -> None:
        self.t, self.dt, self.reads = 0.0, dt, 0

    def __call__(self) -> float:
        self.reads += 1
        self.t += self.dt
        return self.t


def data():
    g = torch.Generator().manual_seed(0)
    return (torch.rand(120, 1, 4, 4, generator=g) > 0.5).float()


def model():
    return genlab.create("vae", data_shape=(1, 4, 4), hidden_dims=(8,), latent_dim=2, seed=0)


# ---------------------------------------------------------------------------------------------- the utility
def test_interval_zero_writes_a_line_per_update_with_count_rate_eta_and_postfix():
    out = io.StringIO()
    with Progress(4, "work", unit="item", stream=out, interval=0, clock=FakeClock(0.5)) as p:
        for i in range(4):
            p.update(1, postfix={"loss": 1.0 / (i + 1)})
    lines = out.getvalue().splitlines()
    assert len(lines) == 5  # one per update and the final line
    assert lines[0].startswith("work: 1/4 items (25%)")
    # the clock advances 0.5 s per reading: at the second update 2 items took 1.0 s
    assert "  2 item/s" in lines[1] and "ETA 0:01" in lines[1]
    assert "loss 0.5" in lines[1]
    assert lines[-1].startswith("work: done 4/4 items in") and "loss 0.25" in lines[-1]


def test_fake_clock_cadence_one_line_every_interval():
    out = io.StringIO()
    clock = FakeClock(3.0)  # 3 s per update; the constructor reads it once (t = 3)
    p = Progress(10, "slow", unit="step", stream=out, interval=10, clock=clock)
    for _ in range(10):
        p.update(1)
    p.close()
    lines = out.getvalue().splitlines()
    # updates at t = 6, 9, ..., 33: lines at t = 15 (4 steps) and 27 (8 steps), then the final line
    assert [ln.split()[1] for ln in lines[:2]] == ["4/10", "8/10"]
    assert "  3 s/step" in lines[0]  # slower than one per second: seconds per step
    assert "ETA 0:18" in lines[0]  # 6 steps left at 3 s each
    assert lines[2].startswith("slow: done 10/10 steps in 0:33")
    assert clock.reads == 1 + 10 + 1  # one reading per update, plus the start and the final line


def test_a_long_interval_gives_only_the_final_line_and_the_postfix_is_formatted_only_then():
    calls = []

    def postfix():
        calls.append(1)
        return "loss 1"

    out = io.StringIO()
    with Progress(1000, "quiet", stream=out, interval=3600) as p:
        p.set_postfix(postfix)
        for _ in range(1000):
            p.update(1)
    assert len(out.getvalue().splitlines()) == 1
    assert out.getvalue().startswith("quiet: done 1000/1000 its in") and "loss 1" in out.getvalue()
    assert len(calls) == 1


def test_the_interval_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv(INTERVAL_ENV, "0")
    out = io.StringIO()
    with Progress(3, "env", stream=out) as p:
        p.update(3)
    assert len(out.getvalue().splitlines()) == 2
    monkeypatch.delenv(INTERVAL_ENV)
    assert progress_interval() == 10.0 and progress_interval(2.5) == 2.5
    monkeypatch.setenv(INTERVAL_ENV, "often")
    with pytest.raises(ConfigError, match=INTERVAL_ENV):
        progress_interval()
    with pytest.raises(ConfigError, match="seconds >= 0"):
        progress_interval(-1.0)


def test_disabled_progress_writes_nothing():
    out = FakeTTY()
    with Progress(10, "off", stream=out, enabled=False, interval=0) as p:
        for _ in range(10):
            p.update(1, postfix="x")
        p.write("message")
    note("message", enabled=False, stream=out)
    assert list(iterate(range(3), stream=out, enabled=False, interval=0)) == [0, 1, 2]
    assert out.getvalue() == ""


def test_a_terminal_gets_a_tqdm_bar_with_rate_eta_and_postfix():
    out = FakeTTY()
    with Progress(5, "bar", unit="step", stream=out, refresh=0.0) as p:
        for i in range(5):
            p.update(1, postfix={"loss": float(i)})
    text = out.getvalue()
    assert "\r" in text and "5/5" in text and "step/s" in text and "100%|" in text
    assert "loss 4" in text  # the last postfix is on the finished bar
    assert "done" not in text  # no plain final line under a bar


def test_an_error_inside_the_block_gives_no_final_line():
    out = io.StringIO()
    with pytest.raises(ZeroDivisionError), Progress(5, "fails", stream=out, interval=3600) as p:
        p.update(1)
        _ = 1 / 0
    assert out.getvalue() == ""


def test_iterate_and_note():
    out = io.StringIO()
    assert list(iterate([1, 2, 3], desc="items", stream=out, interval=0)) == [1, 2, 3]
    assert out.getvalue().splitlines()[-1].startswith("items: done 3/3 its")
    note("stage one", stream=out)
    assert out.getvalue().splitlines()[-1] == "stage one"
    assert format_seconds(75.2) == "1:15" and format_seconds(3725) == "1:02:05" and format_seconds(float("nan")) == "?"


# ---------------------------------------------------------------------------------------------- training
STEP_LINE = re.compile(
    r"^vae: (\d+)/(\d+) steps \(\d+%\)  \S+ (?:step/s|s/step)  elapsed \S+  ETA \S+  epoch (\d)/2  loss \S+"
)


def test_training_off_a_terminal_writes_lines_within_epochs_and_the_epoch_summaries():
    out = io.StringIO()
    Trainer(epochs=2, batch_size=40, callbacks=[ProgressBar(stream=out, interval=0)]).fit(model(), data())
    lines = out.getvalue().splitlines()
    steps = [m.groups() for m in map(STEP_LINE.match, lines) if m]
    assert [s[0] for s in steps] == ["1", "2", "3", "4", "5", "6"] and {s[1] for s in steps} == {"6"}
    assert [s[2] for s in steps] == ["1", "1", "1", "2", "2", "2"]
    assert all("recon " in ln and "kl " in ln for ln in lines if STEP_LINE.match(ln))  # every metric, not only loss
    summaries = [ln for ln in lines if ln.startswith("epoch ")]
    assert len(summaries) == 2 and summaries[0].startswith("epoch 1/2  step 3  loss ") and "ETA" in summaries[0]
    assert len(lines) == 8  # complete epochs: the last summary is the final line


def test_training_lines_follow_the_interval_of_a_fake_clock():
    out = io.StringIO()
    pb = ProgressBar(stream=out, interval=10, clock=FakeClock(4.0))  # 4 s per step
    Trainer(epochs=2, batch_size=20, callbacks=[pb]).fit(model(), data())  # 6 steps per epoch
    lines = out.getvalue().splitlines()
    steps = [int(m.group(1)) for m in map(STEP_LINE.match, lines) if m]
    # a line once 10 s have passed since the last line or epoch summary (which also reads the clock)
    assert steps == [3, 6, 9, 12]
    assert sum(ln.startswith("epoch ") for ln in lines) == 2


def test_a_run_stopped_inside_an_epoch_ends_with_a_final_line():
    out = io.StringIO()
    Trainer(epochs=2, batch_size=40, max_steps=4, callbacks=[ProgressBar(stream=out)]).fit(model(), data())
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("epoch 1/2  step 3")
    assert lines[-1].startswith("vae: done 4/4 steps in") and "epoch 2  loss " in lines[-1]


def test_training_on_a_terminal_shows_a_bar_with_every_metric():
    out = FakeTTY()
    Trainer(epochs=2, batch_size=40, callbacks=[ProgressBar(stream=out, refresh_seconds=0.0)]).fit(model(), data())
    text = out.getvalue()
    assert "6/6" in text and "step/s" in text and "\r" in text
    assert "epoch 2/2  loss " in text and "recon " in text and "kl " in text
    assert "epoch 1/2  step 3" not in text  # no plain summaries under a bar


def test_a_resumed_run_counts_from_the_resumed_step(tmp_path):
    Trainer(epochs=1, batch_size=40, run_dir=tmp_path, callbacks=[Checkpoint()]).fit(model(), data())
    out = io.StringIO()
    trainer = Trainer(epochs=2, batch_size=40, run_dir=tmp_path, callbacks=[ProgressBar(stream=out, interval=0)])
    trainer.fit(model(), data(), resume=True)
    steps = [m.groups()[:2] for m in map(STEP_LINE.match, out.getvalue().splitlines()) if m]
    assert steps == [("4", "6"), ("5", "6"), ("6", "6")]


def test_training_without_progress_is_silent(capsys):
    genlab.train(model(), as_dataset(data()), epochs=1, batch_size=40, progress=False)
    assert capsys.readouterr() == ("", "")


def test_layerwise_stages_are_named(capsys, monkeypatch):
    monkeypatch.setenv(INTERVAL_ENV, "0")
    m = genlab.create("stacked_ae", data_shape=(1, 4, 4), layer_dims=(8, 4), seed=0)
    pretrain_layerwise(m, data(), epochs=1, batch_size=40, progress=True)
    captured = capsys.readouterr()
    assert captured.out == ""
    err = captured.err.splitlines()
    assert any(ln.startswith("stacked_ae stage 1/2: 1/3 steps") for ln in err)
    assert any(ln.startswith("stacked_ae stage 2/2: 3/3 steps") for ln in err)
    assert any(ln.startswith("stage 2/2  epoch 1/1  step 3") for ln in err)
    pretrain_layerwise(m, data(), epochs=1, batch_size=40)
    assert capsys.readouterr().err == ""
