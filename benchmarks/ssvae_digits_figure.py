"""Pictures of the semi-supervised VAE (M2) learning: 8x8 digits with 30 labels (3 per class).

Writes ``docs/images/ssvae-digits-epoch-NNNN.png``: at a few epochs, 8 fixed style codes z (rows) decoded with
each class y = 0..9 (columns), the "analogies" of Kingma et al. (2014): the class sets the digit, z its
style. Also prints the test accuracy of q(y|x) at those epochs, and writes ``benchmarks/results/ssvae_digits.json``.

Usage: python benchmarks/ssvae_digits_figure.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import genlab
from _common import write_result
from genlab import plotting
from genlab.training import Callback, Trainer

IMAGES = Path(__file__).resolve().parents[1] / "docs" / "images"
EPOCHS = (2, 10, 40)


class Analogies(Callback):
    def __init__(self, test):
        self.test, self.accuracy = test, {}

    def on_epoch_end(self, trainer, model, metrics):
        if trainer.epoch not in EPOCHS:
            return
        model.eval()
        with torch.no_grad():
            z = torch.randn(8, model.config.latent_dim, generator=torch.Generator().manual_seed(0))
            x = model.decode(z.repeat_interleave(10, 0), torch.arange(10).repeat(8))
            acc = float((model.predict(self.test.x) == self.test.y).float().mean())
        model.train()
        self.accuracy[trainer.epoch] = round(acc, 4)
        plotting.save_image_grid(x, IMAGES / f"ssvae-digits-epoch-{trainer.epoch:04d}.png", nrow=10)
        print(f"epoch {trainer.epoch}: test accuracy {acc:.3f}", flush=True)


def main() -> None:
    train, test = genlab.data.load("digits"), genlab.data.load("digits", split="test")
    m2 = genlab.create(
        "ssvae",
        data_shape=(1, 8, 8),
        hidden_dims=(256,),
        latent_dim=8,
        classifier_dims=(256,),
        classifier_weight=10.0,
        seed=0,
    )
    cb = Analogies(test)
    Trainer(epochs=max(EPOCHS), batch_size=64, seed=0, callbacks=[cb]).fit(
        m2, train.semi_supervised(30, seed=0, repeat=10)
    )
    write_result(
        "ssvae_digits",
        value=cb.accuracy[max(EPOCHS)],
        unit="test accuracy of q(y|x) on the 359 test digits, 30 labels",
        anchor="none (a picture for the docs)",
        anchor_value=None,
        accuracy_by_epoch=cb.accuracy,
        command="python benchmarks/ssvae_digits_figure.py",
    )


if __name__ == "__main__":
    main()
