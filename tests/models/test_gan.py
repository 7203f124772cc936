"""The GAN family: stabilisers, update counts, conditional sampling, architectures and a short toy run."""

from __future__ import annotations

import math

import pytest
import torch

import genlab
from genlab.data import load
from genlab.errors import ConfigError, DataError, ModeCollapseWarning
from genlab.metrics import mode_coverage
from genlab.models import GAN, GANConfig
from genlab.nn.gan import Discriminator, Generator, MinibatchStd
from genlab.training import ModeCollapseMonitor, Trainer

TOY = {"data_shape": (2,), "hidden_dims": (128, 128), "latent_dim": 8, "lr_g": 1e-3, "lr_d": 1e-3}


def _steps(model: GAN, n: int, batch=None, seed: int = 0) -> list[dict]:
    opts = model.configure_optimizers()
    model.generator = torch.Generator().manual_seed(seed)
    batch = batch or model.example_batch(32, generator=torch.Generator().manual_seed(seed))
    return [model.training_step(batch, opts, s) for s in range(n)], opts


@pytest.mark.parametrize(
    ("size", "chans", "final"),
    [(8, (64,), 4), (28, (64, 128), 7), (32, (64, 128, 256), 4), (64, (64, 128, 256, 512), 4)],
)
def test_dcgan_nets_for_each_image_size(size, chans, final):
    model = genlab.create("dcgan", data_shape=(3, size, size), seed=0)
    conv_t = [m for m in model.netG.modules() if isinstance(m, torch.nn.ConvTranspose2d)]
    assert [m.in_channels for m in conv_t] == list(reversed(chans))
    h, _ = model.netD.features(torch.zeros(2, 3, size, size))
    assert h.shape == (2, chans[-1], final, final)
    x = model.sample(3, generator=torch.Generator().manual_seed(0))
    assert x.shape == (3, 3, size, size)
    assert model.discriminate(x).shape == (3,)


def test_odd_image_sizes_come_back_exactly():
    gen = Generator(16, (1, 27, 19), "conv", (8, 16))
    assert gen(torch.zeros(2, 16)).shape == (2, 1, 27, 19)


def test_weight_clipping_bounds_every_critic_weight():
    model = genlab.create("wgan", data_shape=(1, 8, 8), clip_value=0.005, seed=0)
    _steps(model, 2)
    for name, p in model.netD.named_parameters():
        assert p.abs().max() <= 0.005 + 1e-9, name


def test_spectral_norm_makes_every_largest_singular_value_about_one():
    model = genlab.create("gan", data_shape=(1, 8, 8), spectral_norm=True, seed=0)
    model.train()
    for _ in range(30):  # each forward in training mode runs one power iteration
        model.netD(torch.randn(8, 1, 8, 8))
    layers = [m for m in model.netD.modules() if isinstance(m, (torch.nn.Linear, torch.nn.Conv2d))]
    assert len(layers) == 2
    for m in layers:
        sigma = torch.linalg.matrix_norm(m.weight.detach().reshape(m.weight.shape[0], -1), ord=2)
        assert sigma.item() == pytest.approx(1.0, abs=0.02)


def test_n_critic_counts_discriminator_and_generator_updates():
    model = genlab.create("wgan_gp", data_shape=(1, 8, 8), n_critic=5, seed=0)
    outs, (opt_g, opt_d) = _steps(model, 12)
    g_steps = {int(s["step"]) for s in opt_g.state.values()}
    d_steps = {int(s["step"]) for s in opt_d.state.values()}
    assert g_steps == {2} and d_steps == {12}
    assert int(model.g_updates) == 2
    assert outs[3]["grad_norm_g"] == 0.0 and outs[4]["grad_norm_g"] > 0.0  # the first G update is at step 5


def test_generator_step_leaves_discriminator_weights_alone():
    model = genlab.create("gan", **TOY, seed=0)
    opts = model.configure_optimizers()
    model.generator = torch.Generator().manual_seed(0)
    batch = model.example_batch(16)
    model.training_step(batch, opts, 0)
    assert all(p.requires_grad for p in model.netD.parameters())  # restored after the G update
    d_grads = [p.grad for p in model.netD.parameters()]
    assert all(g is not None for g in d_grads)  # from the D update, untouched by the G update's backward


def test_wasserstein_metrics_report_the_critic_distance_and_penalty():
    outs, _ = _steps(genlab.create("wgan_gp", data_shape=(2,), seed=0), 1)
    out = outs[0]
    assert float(out["w_distance"]) == pytest.approx(-float(out["d_loss"]), rel=1e-6)
    assert out["gp"] > 0
    outs, _ = _steps(genlab.create("gan", **TOY, r1_weight=1.0, seed=0), 1)
    assert outs[0]["r1"] > 0 and "gp" not in outs[0]


def test_ema_generator_is_the_moving_average():
    model = genlab.create("gan", **TOY, ema_decay=0.5, seed=0)
    before = [p.clone() for p in model.netG_ema.parameters()]
    _steps(model, 1)
    decay = min(0.5, (1 + 1) / (10 + 1))  # the warm-up value after one update
    for e, b, p in zip(model.netG_ema.parameters(), before, model.netG.parameters(), strict=True):
        assert torch.allclose(e, decay * b + (1 - decay) * p, atol=1e-6)
    assert not all(torch.equal(e, p) for e, p in zip(model.netG_ema.parameters(), model.netG.parameters(), strict=True))


def test_instance_noise_anneals_linearly():
    model = genlab.create("gan", **TOY, instance_noise=0.4, instance_noise_steps=100, seed=0)
    assert [model.noise_std(s) for s in (0, 50, 100, 200)] == pytest.approx([0.4, 0.2, 0.0, 0.0])
    assert genlab.create("gan", **TOY, instance_noise=0.3, seed=0).noise_std(10**6) == 0.3


def test_minibatch_std_feature_is_the_mean_spread_per_group():
    layer = MinibatchStd(group_size=2)
    h = torch.tensor([[0.0, 0.0], [10.0, 10.0], [2.0, 4.0], [10.0, 10.0]])  # groups (0, 2) and (1, 3)
    out = layer(h)
    assert out.shape == (4, 3)
    assert out[0, 2].item() == pytest.approx((1.0 + 2.0) / 2, rel=1e-6)  # stds 1 and 2 over samples 0 and 2
    assert out[1, 2].item() == pytest.approx(1e-4, rel=1e-3)  # identical samples: sqrt(1e-8)
    assert torch.equal(out[0, 2], out[2, 2])
    images = layer(torch.randn(4, 3, 5, 5))
    assert images.shape == (4, 4, 5, 5)


def test_feature_matching_and_stabilisers_train():
    model = genlab.create(
        "gan", **TOY, feature_matching=1.0, minibatch_std=True, label_smoothing=0.1, instance_noise=0.1, seed=0
    )
    outs, _ = _steps(model, 3)
    assert all(math.isfinite(o["g_loss"]) for o in outs)


def test_images_are_mapped_between_the_data_range_and_tanh():
    model = genlab.create("dcgan", data_shape=(1, 8, 8), seed=0)
    data = load("digits")  # [0, 1]
    Trainer(epochs=1, batch_size=64, seed=0).fit(model, data)
    x = data.x[:5]
    assert model._to_net(x).min() >= -1 and model._to_net(x).max() <= 1
    assert torch.allclose(model._from_net(model._to_net(x)), x, atol=1e-6)
    s = model.sample(16)
    assert s.min() >= 0.0 and s.max() <= 1.0
    assert model.output_range == (0.0, 1.0)


def test_conditional_samples_land_on_the_requested_mode():
    ring = load("ring8", n_samples=4000, std=0.1)
    model = genlab.create("gan", **TOY, n_classes=8, seed=0)
    Trainer(epochs=10**6, max_steps=600, batch_size=128, seed=0).fit(model, ring)
    labels = torch.arange(400) % 8
    s = model.sample(400, labels=labels, generator=torch.Generator().manual_seed(1))
    nearest = torch.cdist(s, ring.centers).argmin(1)
    assert (nearest == labels).double().mean() > 0.9
    default = model.sample(400, generator=torch.Generator().manual_seed(1))  # labels cycle 0, 1, ..., 7, 0, ...
    assert torch.equal(default, s)


def test_short_run_on_the_ring_covers_more_than_one_mode():
    ring = load("ring8", n_samples=4000, std=0.1)
    model = genlab.create("gan", **TOY, seed=0)
    Trainer(epochs=10**6, max_steps=600, batch_size=128, seed=0).fit(model, ring)
    cov = mode_coverage(model.sample(1000, generator=torch.Generator().manual_seed(0)), ring.centers, 0.1)
    assert cov.modes >= 2


def test_user_networks_are_used():
    g = Generator(4, (2,), "mlp", (16,), norm="none", out_act=None)
    d = Discriminator((2,), "mlp", (16,), norm="none")
    model = GAN(GANConfig(data_shape=(2,), latent_dim=4), generator_net=g, discriminator_net=d)
    assert model.netG is g and model.netD is d
    _steps(model, 2)
    assert model.sample(3).shape == (3, 2)


def test_save_load_keeps_spectral_norm_and_ema(tmp_path):
    model = genlab.create("gan", **TOY, spectral_norm=True, ema_decay=0.9, seed=0)
    _steps(model, 3)
    model.save(tmp_path / "m")
    again = genlab.load(tmp_path / "m")
    for k, v in model.state_dict().items():
        assert torch.equal(v, again.state_dict()[k]), k
    g = torch.Generator()
    assert torch.equal(model.sample(4, generator=g.manual_seed(2)), again.sample(4, generator=g.manual_seed(2)))


def test_config_errors_name_the_fix():
    with pytest.raises(ConfigError, match="d_norm='layer'"):
        GANConfig(loss="wasserstein_gp", d_norm="batch")
    with pytest.raises(ConfigError, match="label_smoothing applies"):
        GANConfig(loss="hinge", label_smoothing=0.1)
    with pytest.raises(ConfigError, match="needs a conditional GAN"):
        GANConfig(aux_weight=1.0)
    with pytest.raises(ConfigError, match="image data"):
        GANConfig(data_shape=(2,), architecture="conv")
    with pytest.raises(ConfigError, match="loss"):
        GANConfig(loss="minmax")


def test_conditional_gan_needs_labels_of_the_right_range():
    model = genlab.create("cgan", data_shape=(1, 8, 8), seed=0)
    with pytest.raises(DataError, match="needs labels"):
        model.generate(torch.zeros(2, 100))
    with pytest.raises(DataError, match=r"0\.\.9"):
        model.sample(2, labels=torch.tensor([3, 10]))
    with pytest.raises(DataError, match="n_classes=8"):
        Trainer(epochs=1).fit(model, load("ring8", n_samples=64).with_x(torch.zeros(64, 1, 8, 8)))


class _Collapsing:
    """A stand-in generator: diverse samples first, then all at one mode."""

    def __init__(self, centers):
        self.centers, self.calls, self.training = centers, 0, True

    def eval(self):
        self.training = False

    def train(self, mode=True):
        self.training = mode

    def sample(self, n, generator=None):
        self.calls += 1
        idx = torch.arange(n) % len(self.centers) if self.calls == 1 else torch.zeros(n, dtype=torch.long)
        return self.centers[idx]


class _Trainer:
    epoch = 1


def test_mode_collapse_monitor_warns_when_modes_are_lost():
    ring = load("ring8", n_samples=200)
    monitor = ModeCollapseMonitor(ring, n=80)
    fake = _Collapsing(ring.centers)
    first = monitor.epoch_metrics(_Trainer(), fake)
    assert first["modes"] == 8 and first["high_quality"] == 1.0
    with pytest.warns(ModeCollapseWarning, match="cover 1 modes, down from 8"):
        second = monitor.epoch_metrics(_Trainer(), fake)
    assert second["mode_kl"] == pytest.approx(math.log(8))
    assert len(monitor.events) == 1


def test_mode_collapse_monitor_on_labelled_data_logs_classes():
    digits = load("digits")
    model = genlab.create("dcgan", data_shape=(1, 8, 8), seed=0)
    monitor = ModeCollapseMonitor(digits, n=200)
    tr = Trainer(epochs=1, batch_size=128, seed=0, callbacks=[monitor])
    tr.fit(model, digits)
    row = tr.history.rows[-1]
    assert 0 <= row["classes"] <= 10 and row["class_kl"] >= 0


def test_resumed_wgan_gp_run_matches_an_uninterrupted_one(tmp_path):
    """n_critic, the EMA, spectral norm's power iterations and the penalty's noise all survive a checkpoint."""
    from genlab.training import Checkpoint

    ring = load("ring8", n_samples=256)
    cfg = {**TOY, "loss": "wasserstein_gp", "n_critic": 3, "ema_decay": 0.9, "spectral_norm": True}

    def build():
        return genlab.create("gan", **cfg, seed=3)

    ref = build()
    Trainer(epochs=3, batch_size=32, seed=1).fit(ref, ring)
    first = build()
    cb = [Checkpoint(every_steps=10, every_epochs=None, at_end=False)]
    Trainer(epochs=3, batch_size=32, seed=1, max_steps=11, run_dir=tmp_path, callbacks=cb).fit(first, ring)
    resumed = build()
    Trainer(epochs=3, batch_size=32, seed=1, run_dir=tmp_path).fit(resumed, ring, resume=True)
    for k, v in ref.state_dict().items():
        assert torch.equal(v, resumed.state_dict()[k]), k
    assert int(resumed.g_updates) == 24 // 3
