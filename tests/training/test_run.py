import json

import pytest

import genlab
from genlab.training import Callback

SMALL = {"hidden_dims": (16,), "latent_dim": 2}


class Boom(Callback):
    def __init__(self, exc):
        self.exc = exc

    def on_step_end(self, trainer, model, metrics):
        if trainer.step == 3:
            raise self.exc


def test_train_records_the_run(tmp_path):
    run = genlab.train(
        "vae", "digits", out=tmp_path / "r", overrides=SMALL, epochs=2, batch_size=256, progress=False, val_fraction=0.2
    )
    info = json.loads((tmp_path / "r" / "run.json").read_text())
    assert info["status"] == "completed" and info["steps"] == run.trainer.step == 2 * 5
    assert info["settings"]["val_fraction"] == 0.2 and info["validation"] == "fraction"
    assert "val_loss" in info["final_metrics"]
    assert genlab.load(tmp_path / "r").config.latent_dim == 2


def test_interrupted_run_is_marked_and_can_be_resumed(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        genlab.train(
            "vae",
            "digits",
            out=tmp_path / "r",
            overrides=SMALL,
            epochs=3,
            batch_size=256,
            checkpoint_every_steps=2,
            progress=False,
            callbacks=[Boom(KeyboardInterrupt())],
        )
    info = json.loads((tmp_path / "r" / "run.json").read_text())
    assert info["status"] == "interrupted" and info["step"] == 3
    run = genlab.train("vae", out=tmp_path / "r", resume=True, progress=False)
    assert run.trainer.step == 3 * 6
    assert json.loads((tmp_path / "r" / "run.json").read_text())["status"] == "completed"


def test_a_failed_overwrite_puts_the_old_run_back(tmp_path):
    genlab.train("vae", "digits", out=tmp_path / "r", overrides=SMALL, epochs=1, batch_size=256, progress=False)
    before = (tmp_path / "r" / "model" / "model.safetensors").read_bytes()
    with pytest.raises(genlab.TrainingError, match="boom"):
        genlab.train(
            "vae",
            "digits",
            out=tmp_path / "r",
            overwrite=True,
            overrides=SMALL,
            epochs=1,
            batch_size=256,
            progress=False,
            callbacks=[Boom(genlab.TrainingError("boom"))],
        )
    assert (tmp_path / "r" / "model" / "model.safetensors").read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["r"]


def test_unknown_setting_is_named():
    with pytest.raises(genlab.ConfigError, match=r"unknown training setting.*epoch_count"):
        genlab.train("vae", epoch_count=3)
