"""The U-Net and PatchGAN of the image-to-image models: shapes, depth, skip connections, receptive field."""

import pytest
import torch
from torch import nn

from genlab.errors import ConfigError
from genlab.nn.translation import PatchGAN, UNet, patchgan_receptive_field, unet_depth


@pytest.mark.parametrize(("size", "depth"), [(8, 2), (28, 4), (32, 4), (64, 5)])
def test_unet_depth_follows_the_image_size_and_keeps_the_shape(size, depth):
    assert unet_depth((size, size)) == depth
    net = UNet(2, 1, (size, size), base=8)
    assert net.depth == depth
    with torch.no_grad():
        out = net(torch.rand(3, 2, size, size))
    assert out.shape == (3, 1, size, size)
    assert float(out.min()) >= 0 and float(out.max()) <= 1  # sigmoid


def test_skip_connections_carry_fine_detail_past_the_bottleneck():
    x = torch.rand(1, 1, 32, 32, requires_grad=True)
    share = {}
    for skips in (True, False):
        torch.manual_seed(0)
        net = UNet(1, 1, (32, 32), base=8, dropout=0.0, norm="none", skips=skips).eval()
        grad = torch.autograd.grad(net(x)[0, 0, 0, 0], x)[0][0, 0].abs()
        share[skips] = float(grad[:4, :4].sum() / grad.sum())  # how much of the corner output is the corner input
    # through the outermost skip the corner output sees its own 4 x 4 corner directly; without skips it sees the
    # image only through the 2 x 2 bottleneck, where the corner is one part in many
    assert share[True] > 0.5 and share[True] > 3 * share[False]
    first_up = UNet(1, 1, (32, 32), base=8).up[1][0]
    assert first_up.in_channels == 2 * 32  # the decoder's output (32) and the encoder's skip (32) concatenated


def test_unet_refuses_a_depth_the_size_does_not_allow():
    with pytest.raises(ConfigError, match="1 to 4 levels"):
        UNet(1, 1, (28, 28), depth=5)
    assert UNet(1, 1, (28, 28), base=4, depth=3)(torch.rand(1, 1, 28, 28)).shape == (1, 1, 28, 28)  # padded to 32
    with pytest.raises(ConfigError, match="norm"):
        UNet(1, 1, (28, 28), norm="layer")


def test_dropout_is_the_noise_source():
    net = UNet(1, 1, (32, 32), base=8).train()
    x = torch.rand(2, 1, 32, 32)
    assert not torch.equal(net(x), net(x))
    assert torch.equal(net.eval()(x), net(x))
    assert not any(isinstance(m, nn.Dropout) for m in UNet(1, 1, (32, 32), dropout=0.0).modules())


@pytest.mark.parametrize(("n_layers", "rf"), [(1, 16), (2, 34), (3, 70)])
def test_patchgan_receptive_field_is_the_published_one(n_layers, rf):
    assert patchgan_receptive_field(n_layers) == rf
    assert PatchGAN(2, n_layers=n_layers).receptive_field == rf


@pytest.mark.parametrize(("size", "n_layers"), [(28, 1), (28, 2), (32, 3), (64, 3), (256, 3)])
def test_patchgan_output_grid(size, n_layers):
    d = PatchGAN(2, base=8, n_layers=n_layers)
    out = d(torch.rand(2, 2, size, size))
    g = PatchGAN.grid_size(size, n_layers)
    assert out.shape == (2, 1, g, g)
    if size == 256:
        assert g == 30  # pix2pix's 70 x 70 PatchGAN on 256 x 256 images gives a 30 x 30 grid


def test_patchgan_output_depends_only_on_its_patch():
    d = PatchGAN(1, base=4, n_layers=1, norm="none").eval()
    x = torch.rand(1, 1, 64, 64, requires_grad=True)
    grad = torch.autograd.grad(d(x)[0, 0, 0, 0], x)[0][0, 0]
    rows, cols = torch.nonzero(grad.abs() > 0, as_tuple=True)
    assert int(rows.max() - rows.min()) + 1 <= 16 and int(cols.max() - cols.min()) + 1 <= 16


def test_pixel_shuffle_inverts_unshuffle():
    x = torch.rand(2, 3, 12, 12)
    assert torch.equal(nn.PixelShuffle(2)(nn.PixelUnshuffle(2)(x)), x)
    assert torch.equal(nn.PixelShuffle(4)(nn.PixelUnshuffle(4)(x)), x)
