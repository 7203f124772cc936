"""Each adversarial loss against its formula on fixed discriminator outputs, and the gradient penalty."""

from __future__ import annotations

import math

import pytest
import torch

from genlab.errors import ConfigError
from genlab.losses import ADVERSARIAL_LOSSES, discriminator_loss, generator_loss, gradient_penalty

REAL = torch.tensor([2.0, -0.5, 0.3])
FAKE = torch.tensor([-1.0, 0.7])


def _sig(v: float) -> float:
    return 1.0 / (1.0 + math.exp(-v))


def _mean(values) -> float:
    values = list(values)
    return sum(values) / len(values)


def test_minimax_and_non_saturating_discriminator_loss_is_the_binary_cross_entropy():
    want = -_mean(math.log(_sig(r)) for r in REAL.tolist()) - _mean(math.log(1 - _sig(f)) for f in FAKE.tolist())
    for loss in ("minimax", "non_saturating"):
        assert discriminator_loss(loss, REAL, FAKE).item() == pytest.approx(want, rel=1e-6)


def test_one_sided_label_smoothing_changes_only_the_real_target():
    s = 0.1
    real = -_mean((1 - s) * math.log(_sig(r)) + s * math.log(1 - _sig(r)) for r in REAL.tolist())
    fake = -_mean(math.log(1 - _sig(f)) for f in FAKE.tolist())
    assert discriminator_loss("non_saturating", REAL, FAKE, smoothing=s).item() == pytest.approx(real + fake, rel=1e-6)
    ls = 0.5 * _mean((r - (1 - s)) ** 2 for r in REAL.tolist()) + 0.5 * _mean(f**2 for f in FAKE.tolist())
    assert discriminator_loss("least_squares", REAL, FAKE, smoothing=s).item() == pytest.approx(ls, rel=1e-6)


def test_generator_losses_against_their_formulas():
    f = FAKE.tolist()
    want = {
        "minimax": _mean(math.log(1 - _sig(v)) for v in f),
        "non_saturating": -_mean(math.log(_sig(v)) for v in f),
        "least_squares": 0.5 * _mean((v - 1) ** 2 for v in f),
        "hinge": -_mean(f),
        "wasserstein": -_mean(f),
        "wasserstein_gp": -_mean(f),
    }
    assert set(want) == set(ADVERSARIAL_LOSSES)
    for loss, value in want.items():
        assert generator_loss(loss, FAKE).item() == pytest.approx(value, rel=1e-6), loss


def test_least_squares_hinge_and_wasserstein_discriminator_losses():
    r, f = REAL.tolist(), FAKE.tolist()
    assert discriminator_loss("least_squares", REAL, FAKE).item() == pytest.approx(
        0.5 * _mean((v - 1) ** 2 for v in r) + 0.5 * _mean(v**2 for v in f), rel=1e-6
    )
    assert discriminator_loss("hinge", REAL, FAKE).item() == pytest.approx(
        _mean(max(0, 1 - v) for v in r) + _mean(max(0, 1 + v) for v in f), rel=1e-6
    )
    for loss in ("wasserstein", "wasserstein_gp"):
        assert discriminator_loss(loss, REAL, FAKE).item() == pytest.approx(_mean(f) - _mean(r), rel=1e-6)


def test_minimax_generator_gradient_vanishes_where_the_non_saturating_one_does_not():
    # a confidently rejected sample (logit -8): d/df log(1 - sigmoid(f)) = -sigmoid(f) ~ 3e-4, d/df -log sigmoid(f) ~ -1
    f = torch.tensor([-8.0], requires_grad=True)
    (g_mm,) = torch.autograd.grad(generator_loss("minimax", f), f)
    (g_ns,) = torch.autograd.grad(generator_loss("non_saturating", f), f)
    assert abs(g_mm.item()) == pytest.approx(_sig(-8.0), rel=1e-5)
    assert abs(g_ns.item()) == pytest.approx(1 - _sig(-8.0), rel=1e-5)


def test_gradient_penalty_of_a_linear_critic_is_known_exactly(gen):
    # D(x) = <w, x> + b has gradient w everywhere, so the penalty is (||w|| - 1)^2 whatever the samples
    w = torch.tensor([3.0, -4.0, 0.0, 12.0])  # ||w|| = 13
    real, fake = torch.randn(6, 4, generator=gen), torch.randn(6, 4, generator=gen)
    gp = gradient_penalty(lambda v: v @ w + 0.5, real, fake, generator=gen)
    assert gp.item() == pytest.approx(144.0, rel=1e-6)
    unit = w / w.norm()
    assert gradient_penalty(lambda v: v @ unit, real, fake, generator=gen).item() == pytest.approx(0.0, abs=1e-10)


def test_gradient_penalty_reaches_the_critics_weights(gen):
    lin = torch.nn.Linear(3, 1)
    real, fake = torch.randn(4, 3, generator=gen), torch.randn(4, 3, generator=gen)
    gp = gradient_penalty(lambda v: lin(v).squeeze(1), real, fake, generator=gen)
    gp.backward()
    w = lin.weight.detach()
    assert torch.allclose(lin.weight.grad, 2 * (w.norm() - 1) * w / w.norm(), atol=1e-6)


def test_gradient_penalty_interpolates_per_sample_on_images(gen):
    # a quadratic critic's gradient depends on where x_hat lies: the penalty must use x_hat, not x or x~
    real = torch.ones(2, 1, 2, 2)
    fake = -torch.ones(2, 1, 2, 2)
    g = torch.Generator().manual_seed(5)
    eps = torch.rand(2, 1, 1, 1, generator=torch.Generator().manual_seed(5))
    x_hat = eps * real + (1 - eps) * fake  # every pixel of sample i equals 2 eps_i - 1
    want = ((2 * x_hat.reshape(2, -1)).norm(dim=1) - 1).square().mean()
    gp = gradient_penalty(lambda v: v.square().sum((1, 2, 3)), real, fake, generator=g)
    assert gp.item() == pytest.approx(want.item(), rel=1e-6)


def test_bad_arguments_are_named():
    with pytest.raises(ConfigError, match="unknown adversarial loss 'minmax'"):
        discriminator_loss("minmax", REAL, FAKE)
    with pytest.raises(ConfigError, match="label smoothing applies"):
        discriminator_loss("hinge", REAL, FAKE, smoothing=0.1)
    with pytest.raises(ConfigError, match="one shape"):
        gradient_penalty(lambda v: v.sum(1), torch.zeros(2, 3), torch.zeros(3, 3))


def test_r1_penalty_is_the_squared_gradient_norm_on_the_data(gen):
    from genlab.losses import r1_penalty

    w = torch.tensor([3.0, -4.0])
    x = torch.randn(5, 2, generator=gen)
    assert r1_penalty(lambda v: v @ w, x).item() == pytest.approx(25.0, rel=1e-6)
    want = (4 * x.square().sum(1)).mean()  # D(x) = ||x||^2 has gradient 2x
    assert r1_penalty(lambda v: v.square().sum(1), x).item() == pytest.approx(want.item(), rel=1e-6)
