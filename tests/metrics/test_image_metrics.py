"""PSNR, SSIM and masked errors: exact answers on hand-made images and agreement with scikit-image."""

import math

import numpy as np
import pytest
import torch

from genlab.errors import DataError
from genlab.metrics import masked_error, psnr, ssim


def _images(n=3, c=1, h=28, w=28, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, c, h, w, generator=g, dtype=torch.float64)
    # smooth structure plus noise, so the local statistics are not all alike
    x = torch.nn.functional.avg_pool2d(x, 3, stride=1, padding=1)
    y = (x + 0.1 * torch.randn(x.shape, generator=g, dtype=torch.float64)).clamp(0, 1)
    return x, y


def test_identical_images_have_ssim_one_and_infinite_psnr():
    x, _ = _images()
    assert ssim(x, x) == pytest.approx(1.0, abs=1e-12)
    assert ssim(x, x, window="uniform") == pytest.approx(1.0, abs=1e-12)
    assert psnr(x, x) == math.inf


def test_psnr_of_a_known_error():
    x = torch.zeros(2, 1, 4, 4, dtype=torch.float64)
    y = x + 0.1  # MSE 0.01 -> 20 dB for data range 1, 10 log10(4 / 0.01) for range 2
    assert psnr(x, y) == pytest.approx(20.0)
    assert psnr(x, y, data_range=2.0) == pytest.approx(10 * math.log10(400))
    assert torch.allclose(psnr(x, y, per_sample=True), torch.full((2,), 20.0, dtype=torch.float64))


def test_ssim_falls_with_noise_and_is_symmetric():
    x, y = _images()
    noisier = (y + 0.2 * torch.randn(y.shape, generator=torch.Generator().manual_seed(1), dtype=y.dtype)).clamp(0, 1)
    assert ssim(x, noisier) < ssim(x, y) < 1.0
    assert ssim(x, y) == pytest.approx(ssim(y, x), abs=1e-12)
    per = ssim(x, y, per_sample=True)
    assert per.shape == (3,) and float(per.mean()) == pytest.approx(ssim(x, y))


@pytest.mark.parametrize("shape", [(3, 1, 28, 28), (2, 3, 16, 20), (4, 28, 28)])
def test_ssim_and_psnr_match_scikit_image(shape):
    metrics = pytest.importorskip("skimage.metrics", reason="scikit-image (the dev extra) is the reference")
    g = torch.Generator().manual_seed(3)
    x = torch.rand(shape, generator=g, dtype=torch.float64)
    y = (x + 0.15 * torch.randn(shape, generator=g, dtype=torch.float64)).clamp(0, 1)
    ours_g = ssim(x, y, per_sample=True).numpy()
    ours_u = ssim(x, y, window="uniform", per_sample=True).numpy()
    ours_u5 = ssim(x, y, window="uniform", win_size=5, per_sample=True).numpy()
    channel = 0 if len(shape) == 4 else None
    for i in range(shape[0]):
        a, b = x[i].numpy(), y[i].numpy()
        ref_g = metrics.structural_similarity(
            a, b, data_range=1.0, gaussian_weights=True, sigma=1.5, use_sample_covariance=False, channel_axis=channel
        )
        ref_u = metrics.structural_similarity(a, b, data_range=1.0, channel_axis=channel)
        ref_u5 = metrics.structural_similarity(a, b, data_range=1.0, win_size=5, channel_axis=channel)
        assert ours_g[i] == pytest.approx(ref_g, abs=1e-10)
        assert ours_u[i] == pytest.approx(ref_u, abs=1e-10)
        assert ours_u5[i] == pytest.approx(ref_u5, abs=1e-10)
        assert float(psnr(x[i : i + 1], y[i : i + 1])) == pytest.approx(
            metrics.peak_signal_noise_ratio(a, b, data_range=1.0), abs=1e-10
        )


def test_float32_and_numpy_inputs_agree():
    x, y = _images()
    assert ssim(x.float(), y.float()) == pytest.approx(ssim(x, y), abs=1e-6)
    assert ssim(x.numpy(), y.numpy()) == pytest.approx(ssim(x, y), abs=1e-12)


def test_masked_error_scores_the_hole_only():
    x = torch.zeros(2, 1, 4, 4)
    y = x.clone()
    mask = torch.zeros(1, 1, 4, 4, dtype=torch.bool)
    mask[..., 1:3, 1:3] = True
    y[..., 1:3, 1:3] = 0.5  # error 0.5 in the hole
    y[..., 0, 0] = 1.0  # outside the hole: ignored
    out = masked_error(x, y, mask)
    assert out["l1"] == pytest.approx(0.5)
    assert out["mse"] == pytest.approx(0.25)
    assert out["psnr"] == pytest.approx(10 * math.log10(1 / 0.25))
    assert masked_error(x, x, mask)["psnr"] == 100.0


def test_bad_inputs_are_refused_with_the_fix():
    x, y = _images()
    with pytest.raises(DataError, match="must match"):
        ssim(x, y[:, :, :20])
    with pytest.raises(DataError, match="window"):
        ssim(x[..., :8, :8], y[..., :8, :8])  # smaller than the Gaussian window
    assert 0 < ssim(x[..., :8, :8], y[..., :8, :8], window="uniform", win_size=3) < 1
    with pytest.raises(DataError, match="odd"):
        ssim(x, y, window="uniform", win_size=4)
    with pytest.raises(DataError, match="gaussian' or 'uniform"):
        ssim(x, y, window="box")
    with pytest.raises(DataError, match="data_range"):
        psnr(x, y, data_range=0)
    with pytest.raises(DataError, match="no masked value"):
        masked_error(x, y, torch.zeros_like(x, dtype=torch.bool))
    with pytest.raises(DataError, match="does not fit"):
        masked_error(x, y, torch.ones(5, 5, dtype=torch.bool))
    with pytest.raises(DataError, match="NaN"):
        ssim(x.clone().fill_(float("nan")), y)
    assert np.isfinite(ssim(x, y))


def test_class_preservation_with_the_shipped_digits_classifier():
    from genlab.data import corrupt, load
    from genlab.metrics import class_preservation

    test = load("digits", split="test")
    clean = class_preservation(test.x, test.y)
    assert clean > 0.95  # digits-cnn's own test accuracy is 99.2%
    shuffled = test.y[torch.randperm(len(test.y), generator=torch.Generator().manual_seed(0))]
    assert class_preservation(test.x, shuffled) < 0.25  # about 1 in 10 by chance
    holed = corrupt(test.x, "mask:center:6").input
    assert class_preservation(holed, test.y) < clean - 0.2  # a 6 x 6 hole in an 8 x 8 digit loses the class
    with pytest.raises(DataError, match="one integer class per output"):
        class_preservation(test.x, test.y[:-1])
    with pytest.raises(DataError, match="one integer class per output"):
        class_preservation(test.x, test.y.double())
