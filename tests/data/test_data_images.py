"""Image folders written with Pillow into tmp_path."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import genlab.data as gd
from genlab.errors import DataError


def _gray(value: int, size: tuple[int, int] = (6, 5)) -> Image.Image:
    """A constant greyscale image of ``size`` = (H, W)."""
    return Image.fromarray(np.full(size, value, dtype=np.uint8), mode="L")


def _rgb(color: tuple[int, int, int], size: tuple[int, int] = (6, 5)) -> Image.Image:
    return Image.fromarray(np.full((*size, 3), color, dtype=np.uint8), mode="RGB")


def _save(image: Image.Image, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)
    return path


def test_unlabelled_grayscale_folder(tmp_path: Path) -> None:
    pixels = np.random.RandomState(0).randint(0, 256, (3, 6, 5)).astype(np.uint8)
    for i, p in enumerate(pixels):
        _save(Image.fromarray(p, mode="L"), tmp_path / f"img{i}.png")
    ds = gd.load(tmp_path)
    assert ds.x.shape == (3, 1, 6, 5) and ds.x.dtype == torch.float32 and ds.y is None
    assert torch.equal(ds.x[:, 0], torch.from_numpy(pixels).float() / 255)  # lossless PNG, sorted by name
    assert ds.info.value_range == (0.0, 1.0) and ds.info.class_names is None
    assert ds.info.name == tmp_path.name


def test_rgb_folder_keeps_channel_order(tmp_path: Path) -> None:
    _save(_rgb((255, 0, 0)), tmp_path / "red.png")
    _save(_rgb((0, 0, 255)), tmp_path / "blue.bmp")
    ds = gd.load(tmp_path)
    assert ds.x.shape == (2, 3, 6, 5)
    blue, red = ds.x  # sorted file names: blue.bmp, red.png
    assert torch.equal(red.mean(dim=(1, 2)), torch.tensor([1.0, 0.0, 0.0]))
    assert torch.equal(blue.mean(dim=(1, 2)), torch.tensor([0.0, 0.0, 1.0]))


def test_mixed_gray_and_rgb_default_to_rgb_and_color_forces_either(tmp_path: Path) -> None:
    _save(_gray(100), tmp_path / "a.png")
    _save(_rgb((255, 0, 0)), tmp_path / "b.png")
    auto = gd.load(tmp_path)
    assert auto.x.shape == (2, 3, 6, 5)
    assert torch.allclose(auto.x[0], torch.full((3, 6, 5), 100 / 255))  # grey replicated on 3 channels
    gray = gd.load(tmp_path, color="L")
    assert gray.x.shape == (2, 1, 6, 5)
    assert torch.allclose(gray.x[1], torch.full((1, 6, 5), 76 / 255))  # ITU-R 601 luma of pure red
    only_gray = tmp_path / "gray"
    _save(_gray(100), only_gray / "a.png")
    assert gd.load(only_gray).x.shape == (1, 1, 6, 5)
    assert torch.equal(gd.load(only_gray, color="RGB").x, auto.x[:1])
    with pytest.raises(DataError, match="color='grey' is not valid; use one of 'L', 'RGB', None"):
        gd.load(tmp_path, color="grey")


def test_class_subfolders_become_sorted_labels_and_junk_is_ignored(tmp_path: Path) -> None:
    for i in range(3):
        _save(_gray(10 * i), tmp_path / "dog" / f"{i}.png")
    for i in range(2):
        _save(_gray(200), tmp_path / "cat" / "nested" / f"{i}.jpg")
    (tmp_path / "cat" / "notes.txt").write_text("not an image")
    (tmp_path / "cat" / ".DS_Store").write_bytes(b"\x00\x01junk")
    (tmp_path / "cat" / ".hidden.png").write_bytes(b"junk")
    (tmp_path / ".git").mkdir()
    _save(_gray(0), tmp_path / ".git" / "x.png")
    (tmp_path / "empty").mkdir()
    ds = gd.load(tmp_path)
    assert ds.info.class_names == ("cat", "dog")
    assert ds.y.tolist() == [0, 0, 1, 1, 1]
    assert ds.x.shape == (5, 1, 6, 5)
    assert (ds.x[:2] - 200 / 255).abs().max() < 0.02  # JPEG is lossy, a constant image nearly exact
    assert torch.allclose(ds.x[2:].mean(dim=(1, 2, 3)), torch.tensor([0.0, 10.0, 20.0]) / 255)


def test_mixed_sizes_need_image_size_and_resize_works(tmp_path: Path) -> None:
    _save(_gray(50, (6, 5)), tmp_path / "a.png")
    _save(_gray(50, (6, 5)), tmp_path / "b.png")
    _save(_gray(150, (12, 9)), tmp_path / "c.png")
    with pytest.raises(DataError, match=r"2 different sizes \(H x W\): 6x5 \(2 file\(s\), e.g. a.png\), 12x9 .*"
                       r"pass image_size=\(H, W\)"):  # fmt: skip
        gd.load(tmp_path)
    ds = gd.load(tmp_path, image_size=(4, 3))
    assert ds.x.shape == (3, 1, 4, 3)
    assert torch.allclose(ds.x[2], torch.full((1, 4, 3), 150 / 255), atol=1e-6)  # constant stays constant
    assert gd.load(tmp_path, image_size=8).x.shape == (3, 1, 8, 8)
    with pytest.raises(DataError, match=r"image_size must be \(H, W\) with positive integers"):
        gd.load(tmp_path, image_size=(0, 4))


def test_unreadable_image_is_named(tmp_path: Path) -> None:
    _save(_gray(1), tmp_path / "good.png")
    (tmp_path / "broken.png").write_bytes(b"\x89PNG this is not really a png")
    with pytest.raises(DataError, match=r"broken\.png cannot be read as an image.*remove it"):
        gd.load(tmp_path)


def test_truncated_image_is_named(tmp_path: Path) -> None:
    path = _save(Image.fromarray(np.random.RandomState(0).randint(0, 256, (64, 64, 3), dtype=np.uint8)),
                 tmp_path / "cut.jpg")  # fmt: skip
    path.write_bytes(path.read_bytes()[:300])
    with pytest.raises(DataError, match=r"cut\.jpg cannot be read as an image"):
        gd.load(tmp_path)


def test_no_images_and_ambiguous_layouts_are_errors(tmp_path: Path) -> None:
    (tmp_path / "readme.txt").write_text("hi")
    with pytest.raises(DataError, match=r"no images found in .*\.png/\.jpg/\.jpeg/\.bmp"):
        gd.load(tmp_path)
    _save(_gray(1), tmp_path / "loose.png")
    _save(_gray(1), tmp_path / "cls" / "a.png")
    with pytest.raises(DataError, match=r"both directly inside it.*move the loose images into a class folder"):
        gd.load(tmp_path)


def test_image_options_scale_flatten_binarize(tmp_path: Path) -> None:
    _save(_gray(0), tmp_path / "a.png")
    _save(_gray(255), tmp_path / "b.png")
    _save(_gray(100), tmp_path / "c.png")
    sym = gd.load(tmp_path, scale="symmetric", flatten=True)
    assert sym.x.shape == (3, 30) and sym.info.sample_shape == (30,)
    assert sym.x[:, 0].tolist() == pytest.approx([-1.0, 1.0, 100 / 255 * 2 - 1])
    assert sym.info.value_range == (-1.0, 1.0)
    raw = gd.load(tmp_path, scale=None)
    assert raw.x[:, 0, 0, 0].tolist() == [0.0, 255.0, 100.0] and raw.info.value_range == (0.0, 255.0)
    binary = gd.load(tmp_path, binarize="static")
    assert binary.x[:, 0, 0, 0].tolist() == [0.0, 1.0, 0.0]


def test_sixteen_bit_grayscale_is_mapped_to_the_8_bit_range(tmp_path: Path) -> None:
    Image.fromarray(np.full((4, 4), 65535, dtype=np.uint16)).save(tmp_path / "hi.png")
    Image.fromarray(np.full((4, 4), 0, dtype=np.uint16)).save(tmp_path / "lo.png")
    ds = gd.load(tmp_path)
    assert ds.x.shape == (2, 1, 4, 4)
    assert ds.x[0].min() == 1.0 and ds.x[1].max() == 0.0
