import csv
import math

import pytest
import torch

import genlab
from genlab.data.dataset import Dataset
from genlab.errors import NonFiniteLossError, TrainingError
from genlab.training import Checkpoint, EarlyStopping, SampleGrid, TimeBudget, Trainer
from genlab.training import checkpoint as ckpt


def small_vae(**kw):
    return genlab.create("vae", data_shape=(1, 4, 4), hidden_dims=(16,), latent_dim=2, **kw)


def blobs(n=200, seed=0) -> Dataset:
    """Two kinds of 4x4 binary images: the model can learn them quickly."""
    g = torch.Generator().manual_seed(seed)
    proto = torch.zeros(2, 16)
    proto[0, :8] = 1
    proto[1, 8:] = 1
    lab = torch.randint(0, 2, (n,), generator=g)
    x = (proto[lab] * 0.9 + 0.05).reshape(n, 1, 4, 4)
    return genlab.data.as_dataset(x, lab.numpy())


def weights(model):
    return {k: v.clone() for k, v in model.state_dict().items()}


def test_training_lowers_the_loss_and_keeps_history():
    m = small_vae(lr=1e-2)
    tr = Trainer(epochs=15, batch_size=32, seed=0)
    tr.fit(m, blobs())
    loss = tr.history.column("loss")
    assert len(loss) == 15 and tr.step == 15 * math.ceil(200 / 32)
    assert loss[-1] < 0.7 * loss[0]
    assert {"epoch", "step", "time", "loss", "recon", "kl"} <= set(tr.history.rows[-1])


def test_create_with_seed_is_deterministic_and_leaves_global_rng_alone():
    state = torch.get_rng_state()
    a, b, c = small_vae(seed=1), small_vae(seed=1), small_vae(seed=2)
    assert torch.equal(state, torch.get_rng_state())
    assert all(torch.equal(v, b.state_dict()[k]) for k, v in a.state_dict().items())
    assert not torch.equal(a.encoder.blocks[0][0].weight, c.encoder.blocks[0][0].weight)


def test_same_seed_same_weights_different_seed_different():
    def run(seed):
        m = small_vae()
        torch.manual_seed(1234)  # models built identically; the trainer's seed drives the rest
        Trainer(epochs=2, batch_size=32, seed=seed).fit(m, blobs())
        return m

    torch.manual_seed(0)
    a = run(3)
    torch.manual_seed(0)
    b = run(3)
    torch.manual_seed(0)
    c = run(4)
    assert all(torch.equal(a.state_dict()[k], b.state_dict()[k]) for k in a.state_dict())
    assert any(not torch.equal(a.state_dict()[k], c.state_dict()[k]) for k in a.state_dict())


def test_fit_leaves_global_rng_untouched():
    model, data = small_vae(), blobs()
    state = torch.get_rng_state()
    Trainer(epochs=1, batch_size=64).fit(model, data)
    assert torch.equal(state, torch.get_rng_state())


def test_validation_metrics_are_logged():
    tr = Trainer(epochs=2, batch_size=50)
    tr.fit(small_vae(), blobs(), val_data=blobs(60, seed=1))
    assert "val_loss" in tr.history.rows[-1] and "val_elbo" in tr.history.rows[-1]


def test_max_steps_and_time_budget_stop_the_run():
    tr = Trainer(epochs=100, batch_size=10, max_steps=7)
    tr.fit(small_vae(), blobs())
    assert tr.step == 7
    tr = Trainer(epochs=10_000, batch_size=10, callbacks=[TimeBudget(0.3)])
    tr.fit(small_vae(), blobs())
    assert "time budget" in tr.stop_reason and tr.epoch < 10_000


def test_early_stopping_stops_when_the_monitor_stalls():
    es = EarlyStopping(monitor="loss", patience=2, min_delta=1e9)  # nothing counts as an improvement
    tr = Trainer(epochs=50, batch_size=50, callbacks=[es])
    tr.fit(small_vae(), blobs())
    assert tr.epoch == 3 and "early stopping" in tr.stop_reason


def test_early_stopping_on_a_missing_metric_says_why_before_training():
    tr = Trainer(epochs=2, batch_size=50, callbacks=[EarlyStopping(monitor="val_loss")])
    with pytest.raises(TrainingError, match="no validation data"):
        tr.fit(small_vae(), blobs())
    assert tr.step == 0
    tr = Trainer(epochs=2, batch_size=50, callbacks=[EarlyStopping(monitor="elbo")])
    with pytest.raises(TrainingError, match="monitors 'elbo' but the metrics are loss, recon, kl"):
        tr.fit(small_vae(), blobs())


def test_a_second_fit_starts_clean():
    es = EarlyStopping(monitor="loss", patience=1, min_delta=1e9)
    tr = Trainer(epochs=5, batch_size=50, callbacks=[es])
    tr.fit(small_vae(), blobs())
    assert tr.epoch == 2 and len(tr.history.rows) == 2
    tr.fit(small_vae(), blobs())
    assert tr.epoch == 2 and len(tr.history.rows) == 2 and es.best_epoch == 1


def test_epoch_end_checkpoint_holds_the_callbacks_state_of_that_epoch(tmp_path):
    """Early stopping + resume from an epoch-end checkpoint stops where the uninterrupted run stops."""
    data = blobs()

    def run(max_steps=None, resume=False):
        es = EarlyStopping(monitor="loss", patience=2, min_delta=0.5)
        tr = Trainer(
            epochs=40,
            batch_size=50,
            seed=2,
            max_steps=max_steps,
            run_dir=tmp_path / "r",
            callbacks=[Checkpoint(every_epochs=1), es],
        )
        m = small_vae(seed=0, lr=3e-3)
        tr.fit(m, data, resume=resume)
        return tr, m

    full_tr, full = run()
    (tmp_path / "r").rename(tmp_path / "full")
    run(max_steps=8)  # two epochs, then stop at an epoch end
    tr, resumed = run(resume=True)
    assert tr.step == full_tr.step and tr.stop_reason == full_tr.stop_reason
    assert all(torch.equal(v, resumed.state_dict()[k]) for k, v in full.state_dict().items())


def test_non_finite_weights_are_never_checkpointed(tmp_path):
    m = small_vae()
    tr = Trainer(epochs=2, batch_size=50, run_dir=tmp_path, callbacks=[Checkpoint(every_epochs=1)])
    tr.fit(m, blobs())
    good = ckpt.latest(tmp_path / "checkpoints")
    real_step = m.training_step

    def poison_weights(batch, optimizers, step):
        out = real_step(batch, optimizers, step)
        if step == 11:  # the last step of epoch 3: the epoch-end checkpoint comes next
            with torch.no_grad():
                m.decoder.blocks[0][0].weight.fill_(float("inf"))
        return out

    m.training_step = poison_weights
    with pytest.raises(NonFiniteLossError, match=r"decoder\.blocks\.0\.0\.weight.*NaN/Inf by step 12 "):
        Trainer(epochs=4, batch_size=50, run_dir=tmp_path, callbacks=[Checkpoint(every_epochs=1)]).fit(
            m, blobs(), resume=True
        )
    assert ckpt.latest(tmp_path / "checkpoints") == good


def test_resuming_from_an_older_checkpoint_drops_the_newer_ones(tmp_path):
    data = blobs()
    Trainer(epochs=3, batch_size=50, run_dir=tmp_path, callbacks=[Checkpoint(every_epochs=1, keep=5)]).fit(
        small_vae(seed=0), data
    )
    d = tmp_path / "checkpoints"
    assert [ckpt.step_of(p) for p in ckpt.list_checkpoints(d)] == [4, 8, 12]
    tr = Trainer(epochs=3, batch_size=50, max_steps=6, run_dir=tmp_path, callbacks=[Checkpoint(keep=1)])
    tr.fit(small_vae(seed=0), data, resume=d / "step-000000004.ckpt")
    assert [ckpt.step_of(p) for p in ckpt.list_checkpoints(d)] == [6]


def test_time_budget_already_spent_trains_no_further(tmp_path):
    data = blobs()
    Trainer(epochs=2, batch_size=50, run_dir=tmp_path, callbacks=[Checkpoint()]).fit(small_vae(), data)
    tr = Trainer(epochs=5, batch_size=50, run_dir=tmp_path, callbacks=[TimeBudget(1e-6), Checkpoint()])
    tr.fit(small_vae(), data, resume=True)
    assert tr.step == 8 and "already used up" in tr.stop_reason
    assert ckpt.step_of(ckpt.latest(tmp_path / "checkpoints")) == 8


def test_dynamic_binarization_needs_unit_range_data():
    data = genlab.data.as_dataset(torch.rand(20, 1, 4, 4) * 2)
    m = small_vae(likelihood="gaussian")
    with pytest.raises(genlab.DataError, match=r"dynamic binarization.*spans"):
        Trainer(epochs=1, batch_transform="dynamic_binarize").fit(m, data)


def test_nan_in_a_dataset_is_a_data_error_not_a_training_failure():
    x = torch.rand(20, 1, 4, 4)
    x[3, 0, 1, 1] = float("nan")
    ds = genlab.data.Dataset(x=x)
    with pytest.raises(genlab.DataError, match="NaN"):
        Trainer(epochs=1).fit(small_vae(), ds)


def test_nan_guard_names_the_step_and_keeps_the_last_good_checkpoint(tmp_path):
    m = small_vae()
    data = blobs()
    tr = Trainer(epochs=3, batch_size=50, run_dir=tmp_path, callbacks=[Checkpoint(every_epochs=1)])
    tr.fit(m, data)
    good = ckpt.latest(tmp_path / "checkpoints")
    good_bytes = good.read_bytes()

    real_step = m.training_step

    def poisoned(batch, optimizers, step):
        out = real_step(batch, optimizers, step)
        if step == 14:
            out["loss"] = torch.tensor(float("nan"))
        return out

    m.training_step = poisoned
    tr2 = Trainer(epochs=6, batch_size=50, run_dir=tmp_path, callbacks=[Checkpoint(every_epochs=1)])
    with pytest.raises(
        NonFiniteLossError,
        match=r"loss became nan at step 15 .*last good checkpoint, .*step-000000012\.ckpt \(step 12\), is kept",
    ):
        tr2.fit(m, data, resume=True)
    assert ckpt.latest(tmp_path / "checkpoints") == good
    assert good.read_bytes() == good_bytes


def test_resume_in_process_matches_uninterrupted(tmp_path):
    data = blobs()

    def build():
        torch.manual_seed(7)
        return small_vae()

    ref = build()
    Trainer(epochs=4, batch_size=32, seed=1, batch_transform="dynamic_binarize").fit(ref, data)

    m = build()
    cb = [Checkpoint(every_steps=5, every_epochs=None, at_end=False)]
    tr = Trainer(
        epochs=4,
        batch_size=32,
        seed=1,
        max_steps=11,
        run_dir=tmp_path,
        callbacks=cb,
        batch_transform="dynamic_binarize",
    )
    tr.fit(m, data)
    assert ckpt.latest(tmp_path / "checkpoints").name == "step-000000010.ckpt"  # mid-epoch (7 steps/epoch)
    resumed = build()
    tr2 = Trainer(epochs=4, batch_size=32, seed=1, run_dir=tmp_path, batch_transform="dynamic_binarize")
    tr2.fit(resumed, data, resume=True)
    assert tr2.step == 28
    for k, v in ref.state_dict().items():
        assert torch.equal(v, resumed.state_dict()[k]), k
    assert len(tr2.history.rows) == 4


def test_resume_rejects_a_different_batch_size(tmp_path):
    data = blobs()
    Trainer(epochs=1, batch_size=32, run_dir=tmp_path, callbacks=[Checkpoint()]).fit(small_vae(), data)
    with pytest.raises(TrainingError, match="batch_size=32 but this run has batch_size=16"):
        Trainer(epochs=2, batch_size=16, run_dir=tmp_path).fit(small_vae(), data, resume=True)


def test_resume_without_checkpoint(tmp_path):
    with pytest.raises(TrainingError, match="no checkpoint"):
        Trainer(epochs=1, run_dir=tmp_path).fit(small_vae(), blobs(), resume=True)


def test_checkpoints_are_pruned_and_temp_files_ignored(tmp_path):
    tr = Trainer(epochs=5, batch_size=50, run_dir=tmp_path, callbacks=[Checkpoint(every_epochs=1, keep=2)])
    tr.fit(small_vae(), blobs())
    (tmp_path / "checkpoints" / ".step-000000099.ckpt.abc.tmp").write_bytes(b"partial")
    names = [p.name for p in ckpt.list_checkpoints(tmp_path / "checkpoints")]
    assert names == ["step-000000016.ckpt", "step-000000020.ckpt"]


def test_corrupt_checkpoint_is_reported(tmp_path):
    d = tmp_path / "checkpoints"
    d.mkdir()
    (d / "step-000000005.ckpt").write_bytes(b"garbage")
    with pytest.raises(genlab.ModelFileError, match="corrupt or truncated"):
        Trainer(epochs=1, run_dir=tmp_path).fit(small_vae(), blobs(), resume=True)


def test_metrics_csv_and_sample_grids(tmp_path):
    tr = Trainer(epochs=3, batch_size=50, run_dir=tmp_path, callbacks=[SampleGrid(every_epochs=2, n=9)])
    tr.fit(small_vae(), blobs())
    rows = list(csv.DictReader((tmp_path / "metrics.csv").open()))
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3]
    assert float(rows[-1]["loss"]) == pytest.approx(tr.history.rows[-1]["loss"])
    from PIL import Image

    assert [p.name for p in (tmp_path / "samples").iterdir()] == ["epoch-0002.png"]
    assert Image.open(tmp_path / "samples" / "epoch-0002.png").size[0] > 4 * 3


def test_training_step_without_loss_is_an_error():
    m = small_vae()
    m.training_step = lambda batch, opts, step: {"recon": torch.tensor(1.0)}
    with pytest.raises(TrainingError, match="must return a dict with a 'loss'"):
        Trainer(epochs=1).fit(m, blobs())


def test_bad_trainer_arguments():
    with pytest.raises(genlab.ConfigError, match="batch_size"):
        Trainer(batch_size=0)
    with pytest.raises(genlab.ConfigError, match="unknown batch_transform"):
        Trainer(batch_transform="sharpen")
