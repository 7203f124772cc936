import io

import pytest
import torch

import genlab
from genlab.training import ProgressBar, TensorBoard, Trainer


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
