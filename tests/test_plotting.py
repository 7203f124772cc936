import numpy as np
import pytest
import torch
from PIL import Image

from genlab import plotting


def test_image_grid_layout_and_values():
    x = torch.zeros(5, 1, 2, 3)
    x[1] = 1.0
    g = plotting.image_grid(x, nrow=3, padding=1)
    assert g.shape == (2 * (2 + 1) + 1, 3 * (3 + 1) + 1) and g.dtype == np.uint8
    assert (g[1:3, 1:4] == 0).all() and (g[1:3, 5:8] == 255).all()  # first black, second white
    sym = plotting.image_grid(torch.zeros(1, 3, 2, 2), value_range=(-1.0, 1.0), padding=0)
    assert sym.shape == (2, 2, 3) and (sym == 128).all()
    with pytest.raises(ValueError, match="1 or 3 channels"):
        plotting.image_grid(torch.zeros(2, 2, 4, 4))


def test_save_samples_picks_the_picture(tmp_path):
    assert plotting.save_samples(torch.rand(4, 1, 8, 8), tmp_path / "a.png").exists()
    assert plotting.save_samples(torch.randn(50, 2), tmp_path / "b.png").exists()
    assert plotting.save_samples(torch.rand(3, 64), tmp_path / "c.png").exists()
    assert plotting.save_samples(torch.rand(3, 5), tmp_path / "d.png") is None
    assert Image.open(tmp_path / "a.png").size[0] >= 16


def test_loss_curve_writes_a_png(tmp_path):
    rows = [{"epoch": i, "loss": 1.0 / i, "val_loss": 1.2 / i} for i in range(1, 6)]
    p = plotting.save_loss_curve(rows, tmp_path / "curve.png", title="t")
    assert Image.open(p).format == "PNG"
    assert not list(tmp_path.glob(".*tmp"))
