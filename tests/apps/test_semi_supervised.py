import pytest
import torch

import genlab
from genlab.apps.semi_supervised import compare_strategies, encoder_blocks, fine_tune
from genlab.errors import DataError, GenlabError
from genlab.training import Callback, Trainer


@pytest.fixture(scope="module")
def setup():
    train, test = genlab.data.load("digits"), genlab.data.load("digits", split="test")
    ae = genlab.create("ae", data_shape=(1, 8, 8), hidden_dims=(64, 32), latent_dim=16, lr=3e-3, seed=0)
    Trainer(epochs=30, batch_size=64).fit(ae, train)  # pretraining on all training images, labels unused
    few = train.subset(torch.cat([torch.nonzero(train.y == k)[:5, 0] for k in range(10)]))  # 5 labels per class
    return ae, few, test


def test_frozen_features_do_not_move_and_gradual_unfreezing_goes_top_down(setup):
    ae, few, _ = setup
    frozen = fine_tune(ae, few, strategy="frozen", epochs=3, batch_size=10)
    blocks, _ = encoder_blocks(ae)
    for a, b in zip(frozen.blocks.parameters(), blocks.parameters(), strict=True):
        assert torch.equal(a, b)
    states = []

    class Record(Callback):
        def on_epoch_end(self, trainer, model, metrics):
            states.append([any(p.requires_grad for p in b.parameters()) for b in model.blocks])

    gradual = fine_tune(ae, few, strategy="gradual", epochs=6, batch_size=10, unfreeze_every=2, callbacks=[Record()])
    assert gradual.n_trainable_blocks == 3
    assert states == [
        [False, False, False],
        [False, False, True],
        [False, False, True],
        [False, True, True],
        [False, True, True],
        [True, True, True],
    ]


def test_per_layer_learning_rates_decay_downwards(setup):
    ae, few, _ = setup
    clf = fine_tune(ae, few, strategy="gradual", epochs=0, lr=1e-2, layer_lr_decay=0.5)
    lrs = [g["lr"] for g in clf.configure_optimizers()[0].param_groups]
    assert lrs == pytest.approx([1e-2, 1e-2, 5e-3, 2.5e-3])  # head, then blocks from the top down


def test_pretraining_helps_with_few_labels(setup):
    ae, few, test = setup
    errors = compare_strategies(ae, few, test, epochs=40, batch_size=10, lr=3e-3, seed=0)
    assert errors["gradual"] < errors["scratch"] and errors["frozen"] < errors["scratch"]
    assert errors["gradual"] < 0.35


def test_errors(setup):
    ae, few, _ = setup
    with pytest.raises(DataError, match="needs labelled data"):
        fine_tune(ae, few.x, epochs=1)
    clf = fine_tune(ae, few, strategy="frozen", epochs=0)
    with pytest.raises(GenlabError, match="does not generate"):
        clf.sample(2)
