import io

import pytest
import torch

import genlab
from genlab.training import Callback, Checkpoint, LRSchedule, ProgressBar, TensorBoard, Trainer
from genlab.training.run import parse_lr_schedule


def data():
    g = torch.Generator().manual_seed(0)
    return (torch.rand(120, 1, 4, 4, generator=g) > 0.5).float()


def model():
    return genlab.create("vae", data_shape=(1, 4, 4), hidden_dims=(8,), latent_dim=2, seed=0)


def test_progress_without_a_terminal_prints_one_line_per_epoch_with_eta():
    out = io.StringIO()
    Trainer(epochs=3, batch_size=40, callbacks=[ProgressBar(stream=out)]).fit(model(), data())
    lines = out.getvalue().splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("epoch 1/3  step 3  loss ") and "ETA" in lines[0]
    assert "ETA 0s" in lines[-1]


def test_progress_bar_shows_loss():
    out = io.StringIO()
    pb = ProgressBar(stream=out, force_bar=True, refresh_seconds=0.0)
    Trainer(epochs=2, batch_size=40, callbacks=[pb]).fit(model(), data())
    text = out.getvalue()
    assert "6/6" in text and "loss" in text


def test_tensorboard_writes_event_files(tmp_path):
    pytest.importorskip("tensorboard")
    Trainer(epochs=2, batch_size=40, run_dir=tmp_path, callbacks=[TensorBoard(every_steps=1)]).fit(model(), data())
    assert list((tmp_path / "tensorboard").glob("events.out.tfevents.*"))


@pytest.mark.parametrize(
    ("kind", "final", "expected"),
    [
        ("cosine", 0.1, [1.0, 0.55, 0.1]),
        ("exponential", 0.01, [1.0, 0.1, 0.01]),
        ("linear", 0.0, [1.0, 0.5, 0.0]),
        ("constant", 0.0, [1.0, 1.0, 1.0]),
    ],
)
def test_lr_schedule_factors(kind, final, expected):
    s = LRSchedule(kind, final=final)
    assert [s.factor(t) for t in (0.0, 0.5, 1.0)] == pytest.approx(expected)
    warm = LRSchedule(kind, final=final, warmup=0.2)
    assert warm.factor(0.1) == pytest.approx(0.5)  # halfway up the warm-up
    assert warm.factor(0.2) == pytest.approx(1.0) and warm.factor(1.0) == pytest.approx(expected[-1])


class _StopAt(Callback):
    """Stops the run after ``step`` steps, as an interruption would (the schedule still plans for all)."""

    def __init__(self, step):
        self.at = step

    def on_step_end(self, trainer, model, metrics):
        if trainer.step == self.at:
            trainer.request_stop("interrupted")


class _LrLog(Callback):
    def __init__(self):
        self.lrs = []

    def on_step_end(self, trainer, model, metrics):
        self.lrs.append(trainer.optimizers[0].param_groups[0]["lr"])


def test_lr_schedule_sets_each_steps_rate_from_the_models_base_rate():
    log = _LrLog()
    m = model()  # Adam lr 1e-3
    tr = Trainer(epochs=2, batch_size=40, callbacks=[LRSchedule("linear", final=0.0), log])
    tr.fit(m, data())
    # 6 steps; after step s the next step's rate is 1e-3 * (1 - s / 6)
    assert log.lrs == pytest.approx([1e-3 * (1 - s / 6) for s in range(1, 7)])
    assert tr.optimizers[0].param_groups[0]["initial_lr"] == 1e-3


def test_lr_schedule_resumes_exactly(tmp_path):
    ref = model()
    Trainer(epochs=3, batch_size=40, callbacks=[LRSchedule("cosine", final=0.1)]).fit(ref, data())
    m = model()
    cbs = [LRSchedule("cosine", final=0.1), Checkpoint(every_steps=4, every_epochs=None, at_end=False), _StopAt(5)]
    Trainer(epochs=3, batch_size=40, run_dir=tmp_path, callbacks=cbs).fit(m, data())
    resumed = model()
    tr = Trainer(epochs=3, batch_size=40, run_dir=tmp_path, callbacks=[LRSchedule("cosine", final=0.1)])
    tr.fit(resumed, data(), resume=True)
    for a, b in zip(ref.state_dict().values(), resumed.state_dict().values(), strict=True):
        assert torch.equal(a, b)


def test_lr_schedule_errors():
    with pytest.raises(genlab.ConfigError, match="unknown learning-rate schedule 'cosin'"):
        LRSchedule("cosin")
    with pytest.raises(genlab.ConfigError, match=r"final factor must be in \[0, 1\]"):
        LRSchedule("cosine", final=2.0)
    with pytest.raises(genlab.ConfigError, match="final > 0"):
        LRSchedule("exponential", final=0.0)
    with pytest.raises(genlab.ConfigError, match="KIND"):
        parse_lr_schedule("cosine:fast")
    assert parse_lr_schedule("cosine:0.05:0.1").factor(1.0) == pytest.approx(0.05)
