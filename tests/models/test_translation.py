"""Image-to-image models: pix2pix (and inpainting), srnet, cyclegan; their data checks, losses, exact resume and
the translate CLI."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import genlab
from genlab.cli.main import main as cli
from genlab.data import load, paired, unpaired
from genlab.errors import ConfigError, DataError
from genlab.metrics import psnr
from genlab.nn.translation import ImagePool, SRResNet, upscale_steps
from genlab.training import Checkpoint, Trainer

SMALL_P2P = {"base": 8, "d_base": 8}
SMALL_CYCLE = {"base": 4, "n_blocks": 1, "d_base": 4}


@pytest.fixture(scope="module")
def digits():
    return load("digits")


# --- networks ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("r", [2, 3, 4])
def test_pixel_shuffle_is_the_inverse_of_unshuffle_and_srresnet_upscales_by_the_factor(r):
    x = torch.rand(2, 3 * r * r, 5, 5)
    assert torch.equal(nn.PixelUnshuffle(r)(nn.PixelShuffle(r)(x)), x)
    y = torch.rand(2, 3, 5 * r, 5 * r)
    assert torch.equal(nn.PixelShuffle(r)(nn.PixelUnshuffle(r)(y)), y)
    net = SRResNet(1, 1, r, channels=8, n_blocks=1)
    assert net(torch.rand(2, 1, 7, 7)).shape == (2, 1, 7 * r, 7 * r)


def test_upscale_steps_and_unsupported_factors():
    assert upscale_steps(2) == [2] and upscale_steps(4) == [2, 2] and upscale_steps(8) == [2, 2, 2]
    assert upscale_steps(3) == [3]
    with pytest.raises(ConfigError, match="x5"):
        upscale_steps(5)
    with pytest.raises(ConfigError, match="divide"):
        genlab.create("srnet", data_shape=(1, 28, 28), source_shape=(1, 8, 8))


def test_the_history_buffer_fills_then_swaps_about_half_and_keeps_what_it_saw():
    pool = ImagePool(4, (1,))
    g = torch.Generator().manual_seed(0)
    first = torch.arange(4.0).reshape(4, 1)
    assert torch.equal(pool.query(first, g), first)  # while filling, images pass through and are stored
    assert int(pool.count) == 4 and torch.equal(pool.images, first)
    swapped = 0
    for i in range(200):
        new = torch.full((1, 1), 100.0 + i)
        stored_before = set(pool.images.flatten().tolist())
        out = pool.query(new, g)
        if float(out) != 100.0 + i:
            swapped += 1
            assert float(out) in stored_before  # a swap returns an image the pool held...
            assert 100.0 + i in pool.images.flatten().tolist()  # ...and keeps the new one in its place
    assert 70 <= swapped <= 130  # probability 1/2 per image
    assert torch.equal(ImagePool(0, (1,)).query(first, g), first)


# --- data ----------------------------------------------------------------------------------------------
def test_unpaired_domains_must_share_channels_and_size(digits):
    with pytest.raises(DataError, match=r"domain A .* shape \(1, 8, 8\).*domain B .*\(1, 28, 28\)"):
        unpaired(digits, load("digits28"))
    u = unpaired(load("digits28", split="test"), load("digits28"))
    assert u.unpaired and u.info.source_shape == (1, 28, 28) and len(u.source) == 359 and len(u) == 1438
    part = u.subset(torch.arange(10))
    assert len(part) == 10 and len(part.source) == 359  # domain A stays whole
    assert len(part.extras["source_y"]) == 359


def test_digits28_puts_the_digits_in_mnists_frame():
    d = load("digits28", split="test")
    assert d.x.shape == (359, 1, 28, 28) and d.info.value_range == (0.0, 1.0)
    border = torch.ones(28, 28, dtype=torch.bool)
    border[4:24, 4:24] = False
    assert float(d.x[:, 0][:, border].abs().max()) == 0.0  # a 4-pixel black border, as in MNIST
    assert torch.equal(d.y, load("digits", split="test").y)


def test_unpaired_batches_draw_domain_a_independently_and_reproducibly(digits):
    seen = []

    class Spy(genlab.models.CycleGAN):
        def training_step(self, batch, optimizers, step):
            seen.append(batch.source.flatten(1).sum(1))
            return super().training_step(batch, optimizers, step)

    a = digits.subset(torch.arange(50))
    data = unpaired(a, digits)
    for _ in range(2):
        model = Spy(genlab.models.CycleGANConfig(data_shape=(1, 8, 8), source_shape=(1, 8, 8), **SMALL_CYCLE))
        model.registry_name = "cyclegan"
        Trainer(epochs=1, batch_size=64, seed=3, max_steps=3).fit(model, data)
    first, second = seen[:3], seen[3:]
    assert all(torch.equal(p, q) for p, q in zip(first, second, strict=True))  # same seed, same draws
    assert all(len(s) == 64 for s in first)  # B's batch size, drawn with replacement from A's 50 images


def test_pix2pix_refuses_unpaired_or_unmatched_data(digits):
    model = genlab.create("pix2pix", data_shape=(1, 8, 8), source_shape=(1, 8, 8), **SMALL_P2P)
    with pytest.raises(DataError, match=r"no inputs.*corruption="):
        Trainer(epochs=1).fit(model, digits)
    with pytest.raises(DataError, match=r"needs pairs.*cyclegan"):
        Trainer(epochs=1).fit(model, unpaired(digits, digits))
    with pytest.raises(DataError, match=r"inputs of shape \(1, 8, 8\).*\(1, 4, 4\)"):
        Trainer(epochs=1).fit(model, paired(digits, "downsample:2", size="small"))
    with pytest.raises(ConfigError, match=r"same size.*srnet"):
        genlab.create("pix2pix", data_shape=(1, 8, 8), source_shape=(1, 4, 4))


def test_two_folders_pair_by_name_and_bad_folders_are_named(tmp_path):
    from PIL import Image

    a, b = tmp_path / "in", tmp_path / "out"
    for root in (a, b):
        (root / "s").mkdir(parents=True)
    rng = np.random.RandomState(0)
    for name in ("2", "1", "s/3"):
        Image.fromarray((rng.rand(6, 6) * 255).astype(np.uint8)).save(a / f"{name}.png")
        Image.fromarray((rng.rand(6, 6) * 255).astype(np.uint8)).save(b / f"{name}.bmp")
    ds = load(b, inputs=a)
    assert ds.x.shape == (3, 1, 6, 6) and ds.source.shape == (3, 1, 6, 6) and ds.info.pairing == "paired"
    assert [f.split("/")[-1] for f in ds.extras["files"]] == ["1.bmp", "2.bmp", "3.bmp"]
    direct = load(a, inputs=a)  # a folder paired with itself
    assert torch.equal(direct.x, direct.source)
    (a / "4.png").write_bytes((a / "1.png").read_bytes())
    with pytest.raises(DataError, match=r"4\.\* has no image of the same name"):
        load(b, inputs=a)
    (a / "4.png").unlink()
    (b / "notes.txt").write_text("x")
    with pytest.raises(DataError, match=r"notes\.txt is not an image"):
        load(b, inputs=a)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="empty"):
        load(b, inputs=tmp_path / "empty")


# --- losses and training -------------------------------------------------------------------------------
def test_cycle_loss_is_zero_for_identity_generators_and_positive_otherwise():
    model = genlab.create("cyclegan", data_shape=(1, 8, 8), source_shape=(1, 8, 8), **SMALL_CYCLE, seed=0)
    a, b = torch.rand(4, 1, 8, 8), torch.rand(4, 1, 8, 8)
    assert float(model.cycle_loss(a, b).detach()) > 0
    model.netG_AB, model.netG_BA = nn.Identity(), nn.Identity()
    assert float(model.cycle_loss(a, b)) == 0.0
    assert torch.equal(model.translate(a, "BA"), a)


def test_l1_only_pix2pix_trains_no_discriminator_and_translate_is_deterministic(digits):
    data = paired(digits.subset(torch.arange(64)), "noise:0.3", seed=1)
    model = genlab.create("pix2pix", data_shape=(1, 8, 8), source_shape=(1, 8, 8), lambda_adv=0.0, **SMALL_P2P)
    d_before = {k: v.clone() for k, v in model.netD.state_dict().items()}
    Trainer(epochs=1, batch_size=32).fit(model, data)
    assert all(torch.equal(v, model.netD.state_dict()[k]) for k, v in d_before.items())
    assert torch.equal(model.translate(data.source), model.translate(data.source))
    draws = model.sample(2, x=data.source[:4])
    assert draws.shape == (2, 4, 1, 8, 8) and not torch.equal(draws[0], draws[1])  # dropout: the noise source


@pytest.mark.parametrize(
    ("name", "spec", "overrides"),
    [
        ("pix2pix", "noise:0.5", {**SMALL_P2P, "dropout": 0.0}),
        ("srnet", "downsample:2", {"channels": 16, "n_blocks": 2}),
        ("inpaint", "mask:center:4", SMALL_P2P),
    ],
)
def test_a_short_run_improves_psnr_over_its_input(digits, name, spec, overrides):
    size = "small" if name == "srnet" else "same"
    tr = paired(digits, spec, seed=0, size=size)
    te = paired(load("digits", split="test"), spec, seed=1, size=size)
    run = genlab.train(name, tr, overrides=overrides, epochs=15, batch_size=64, seed=0, progress=False)
    hole = te.extras.get("hole")
    out = run.model.translate(te.source, hole=hole)
    if name == "srnet":
        from genlab.models.translation import bicubic

        before = psnr(te.x, bicubic(te.source, (8, 8)))
    elif hole is not None:
        before = psnr(te.x, torch.where(hole, tr.x.mean(0, keepdim=True), te.source))  # mean fill
    else:
        before = psnr(te.x, te.source)
    assert psnr(te.x, out) > before + 1.0, (psnr(te.x, out), before)
    if hole is not None:  # known pixels pasted back, bit for bit
        assert torch.equal(out[~hole], te.source[~hole])


@pytest.mark.parametrize("name", ["pix2pix", "cyclegan", "srnet"])
def test_a_resumed_translation_run_matches_an_uninterrupted_one(digits, name, tmp_path):
    """Both optimizers, dropout, the image pools and the LR schedule survive a checkpoint."""
    if name == "cyclegan":
        data, cfg = unpaired(digits.subset(torch.arange(40)), digits.subset(torch.arange(96))), SMALL_CYCLE
        cfg = {**cfg, "pool_size": 5}
    elif name == "srnet":
        data, cfg = (
            paired(digits.subset(torch.arange(96)), "downsample:2", size="small"),
            {"channels": 4, "n_blocks": 1, "lambda_adv": 0.1},
        )
    else:
        data, cfg = paired(digits.subset(torch.arange(96)), "edges"), SMALL_P2P

    def build():
        return genlab.create(name, dict(cfg), data_shape=(1, 8, 8), source_shape=tuple(data.source.shape[1:]), seed=3)

    ref = build()
    Trainer(epochs=3, batch_size=16, seed=1).fit(ref, data)
    first = build()
    cb = [Checkpoint(every_steps=7, every_epochs=None, at_end=False)]
    Trainer(epochs=3, batch_size=16, seed=1, max_steps=8, run_dir=tmp_path, callbacks=cb).fit(first, data)
    resumed = build()
    Trainer(epochs=3, batch_size=16, seed=1, run_dir=tmp_path).fit(resumed, data, resume=True)
    for k, v in ref.state_dict().items():
        assert torch.equal(v, resumed.state_dict()[k]), k


# --- runs and the CLI ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sr_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "sr"
    rc = cli(["train", "srnet", "--data", "digits", "--data-opt", "corruption=downsample:2",
              "--data-opt", "corruption_size=small", "--set", "channels=8", "--set", "n_blocks=1",
              "--epochs", "2", "--out", str(out), "--quiet"])  # fmt: skip
    assert rc == 0
    return out


def test_a_run_writes_the_input_output_target_grid_and_evaluates(sr_run, capsys):
    assert (sr_run / "translations.png").is_file() and (sr_run / "model" / "model.safetensors").is_file()
    assert sorted(p.name for p in (sr_run / "samples").iterdir()) == ["epoch-0001.png", "epoch-0002.png"]
    assert cli(["evaluate", str(sr_run), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "PSNR (dB)" in printed and "bicubic interpolation" in printed and "Class preservation" in printed
    import json

    m = json.loads((sr_run / "metrics.json").read_text())["metrics"]["translation"]
    assert m["n"] == 359 and m["paired"] and m["AB"]["psnr"] > 0 and 0 <= m["AB"]["class_preservation"] <= 1


def test_translate_cli_round_trips_npy_images_and_folders(sr_run, tmp_path, capsys):
    from PIL import Image

    model = genlab.load(sr_run)
    lo = paired(load("digits", split="test"), "downsample:2", size="small").source[:5]
    np.save(tmp_path / "in.npy", lo.numpy())
    assert cli(["translate", str(sr_run), str(tmp_path / "in.npy"), "--out", str(tmp_path / "out.npy")]) == 0
    got = torch.from_numpy(np.load(tmp_path / "out.npy"))
    assert torch.allclose(got, model.translate(lo)) and got.shape == (5, 1, 8, 8)
    folder = tmp_path / "imgs"
    folder.mkdir()
    for i, img in enumerate(lo):
        Image.fromarray((img[0].numpy() * 255).round().astype(np.uint8)).save(folder / f"{i}.png")
    assert cli(["translate", str(sr_run), str(folder), "--out", str(tmp_path / "outdir")]) == 0
    assert sorted(p.name for p in (tmp_path / "outdir").iterdir()) == [f"{i}.png" for i in range(5)]
    back = np.asarray(Image.open(tmp_path / "outdir" / "0.png"), dtype=np.float32) / 255
    assert np.abs(back - got[0, 0].numpy()).max() < 0.02  # the same output, up to 8-bit rounding
    # bad input: a clear line, non-zero exit, nothing written
    capsys.readouterr()
    assert cli(["translate", str(sr_run), str(folder / "0.png"), "--out", str(tmp_path / "x.npy")]) != 0
    err = capsys.readouterr().err
    assert "must be a .png" in err and len(err.strip().splitlines()) <= 2 and not (tmp_path / "x.npy").exists()
    assert cli(["translate", str(sr_run), str(tmp_path / "in.npy"), "--out", str(tmp_path / "out.npy")]) != 0
    assert "already exists" in capsys.readouterr().err
    np.save(tmp_path / "big.npy", np.zeros((2, 1, 8, 8), np.float32))
    assert cli(["translate", str(sr_run), str(tmp_path / "big.npy"), "--out", str(tmp_path / "b.npy")]) != 0
    assert "(N, 1, 4, 4)" in capsys.readouterr().err
    assert cli(["sample", str(sr_run), "--out", str(tmp_path / "s.png")]) != 0
    assert "genlab translate" in capsys.readouterr().err


def test_an_unpaired_run_is_evaluated_in_both_directions(tmp_path, capsys):
    out = tmp_path / "cg"
    args = ["train", "cyclegan", "--data", "digits", "--data-opt", "domain_a=digits", "--max-steps", "3"]
    args += ["--set", "base=4", "--set", "n_blocks=1", "--set", "d_base=4", "--out", str(out), "--quiet"]
    assert cli(args) == 0
    assert cli(["evaluate", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "A -> B: Class preservation" in printed and "B -> A: FID" in printed
    assert cli(["evaluate", str(out), "--quiet", "--overwrite", "--metrics", "fid"]) != 0
    assert "translation" in capsys.readouterr().err


def test_srnet_feature_loss_uses_the_shipped_cnn_and_refuses_other_sizes(digits):
    model = genlab.create("srnet", data_shape=(1, 8, 8), source_shape=(1, 4, 4), loss="feature", channels=4, seed=0)
    out = model.training_step(model.example_batch(8), model.configure_optimizers(), 0)
    assert float(out["feature"]) > 0 and float(out["loss"]) > float(out["pixel"])
    assert not any("feature" in k for k in model.state_dict())  # the fixed CNN is not part of the model
    with pytest.raises(ConfigError, match=r"shipped CNN.*16, 16"):
        genlab.create("srnet", data_shape=(1, 16, 16), source_shape=(1, 8, 8), loss="feature")


def test_cyclegan_holds_then_decays_its_learning_rate_linearly(tmp_path):
    from genlab.training import LRSchedule

    s = LRSchedule("linear_decay")
    assert [s.factor(t) for t in (0.0, 0.25, 0.5, 0.75, 1.0)] == [1.0, 1.0, 1.0, 0.5, 0.0]
    run = genlab.train(
        "cyclegan", unpaired(load("digits").subset(torch.arange(32)), load("digits").subset(torch.arange(64))),
        overrides=SMALL_CYCLE, epochs=2, batch_size=16, out=tmp_path / "r", progress=False,
    )  # fmt: skip
    import json

    assert json.loads((tmp_path / "r" / "run.json").read_text())["settings"]["lr_schedule"] == "linear_decay"
    assert run.trainer.optimizers[0].param_groups[0]["lr"] == pytest.approx(0.0, abs=1e-12)  # the end of the run
