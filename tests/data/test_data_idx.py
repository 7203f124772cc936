"""IDX parsing and verification, the MNIST-family loader, and real MNIST when it is on disk."""

from __future__ import annotations

import gzip
import hashlib
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

import genlab.data as gd
from genlab.data.idx import FASHION_MNIST, MNIST, load_idx
from genlab.errors import ChecksumError, DataError, DatasetNotFoundError

MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


# --- parse_idx / read_idx on tiny synthetic files -------------------------------------------------


def test_parse_idx_round_trips_uint8_arrays(make_idx) -> None:
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    labels = np.array([3, 1, 2], dtype=np.uint8)
    assert np.array_equal(gd.parse_idx(make_idx(images)), images)
    assert np.array_equal(gd.parse_idx(make_idx(labels)), labels)


def test_parse_idx_reads_big_endian_int32() -> None:
    values = np.array([[1, -2], [70000, 3]], dtype=">i4")
    data = bytes([0, 0, 0x0C, 2]) + (2).to_bytes(4, "big") * 2 + values.tobytes()
    assert np.array_equal(gd.parse_idx(data), values.astype(np.int32))


@pytest.mark.parametrize(
    ("mutate", "match"),
    [
        (lambda b: b[:-5], r"truncated: its header announces shape \(2, 3, 4\) \(24 bytes of data\) but only 19"),
        (lambda b: b[:10], "truncated: the file ends inside its 16-byte header"),
        (lambda b: b[:3], "truncated: 3 bytes is less than an IDX header"),
        (lambda b: b"\x1f\x00" + b[2:], r"x\.idx is not an IDX file \(bad magic number 0x1f000803"),
        (lambda b: b[:2] + b"\x07" + b[3:], "bad magic number"),
        (lambda b: b + b"xx", "corrupt: 2 unexpected bytes"),
    ],
)
def test_parse_idx_rejects_truncated_and_malformed_data(make_idx, mutate, match) -> None:
    good = make_idx(np.zeros((2, 3, 4), dtype=np.uint8))
    with pytest.raises(DataError, match=match) as info:
        gd.parse_idx(mutate(good), name="x.idx")
    assert "delete it and download it again" in str(info.value)


def test_read_idx_reads_raw_and_gzip_alike_and_checks_the_content_digest(tmp_path: Path, make_idx) -> None:
    array = np.random.RandomState(0).randint(0, 256, (5, 4, 4)).astype(np.uint8)
    data = make_idx(array)
    digest = hashlib.sha256(data).hexdigest()
    (tmp_path / "a").write_bytes(data)
    (tmp_path / "a.gz").write_bytes(gzip.compress(data))
    for name in ("a", "a.gz"):
        assert np.array_equal(gd.read_idx(tmp_path / name, sha256=digest), array)
    gz_digest = hashlib.sha256((tmp_path / "a.gz").read_bytes()).hexdigest()
    assert np.array_equal(gd.read_idx(tmp_path / "a.gz", sha256=gz_digest, digest_of="file"), array)


def test_read_idx_checksum_mismatch_names_file_digests_and_fix(tmp_path: Path, make_idx) -> None:
    data = make_idx(np.zeros((3,), dtype=np.uint8))
    path = tmp_path / "labels.gz"
    path.write_bytes(gzip.compress(data))
    expected = "0" * 64
    actual = hashlib.sha256(data).hexdigest()
    with pytest.raises(ChecksumError, match=rf"labels\.gz.*{actual} but {expected} was expected.*delete it"):
        gd.read_idx(path, sha256=expected)


def test_read_idx_truncated_gzip_is_reported_as_truncated(tmp_path: Path, make_idx) -> None:
    blob = gzip.compress(make_idx(np.random.RandomState(0).randint(0, 256, (50, 8, 8)).astype(np.uint8)))
    path = tmp_path / "cut.gz"
    path.write_bytes(blob[: len(blob) // 2])
    with pytest.raises(DataError, match=r"cut\.gz is truncated or corrupt \(gzip.*delete it and download it again"):
        gd.read_idx(path)


@pytest.mark.parametrize(
    "data",
    [
        b"\x00\x00\x08\xff" + bytes(40),  # 255 dimensions: used to be reported as a truncated 1024-byte header
        b"\x00\x00\x08\x09" + bytes(40),  # 9 dimensions
        b"P5\n4 4\n255\n" + bytes(16),  # a PGM picture
    ],
    ids=["255-dims", "9-dims", "pgm"],
)
@pytest.mark.parametrize("gz", [False, True], ids=["raw", "gzip"])
def test_a_file_with_bad_magic_is_not_an_idx_file(tmp_path: Path, data: bytes, gz: bool) -> None:
    path = tmp_path / ("f.gz" if gz else "f")
    path.write_bytes(gzip.compress(data) if gz else data)
    with pytest.raises(DataError, match=rf"{path.name} is not an IDX file \(bad magic number 0x") as info:
        gd.read_idx(path)
    assert "truncated" not in str(info.value) and "download it again" in str(info.value)


@pytest.mark.parametrize("gz", [False, True], ids=["raw", "gzip"])
def test_absurd_dimensions_are_rejected_without_reading_the_data(tmp_path: Path, gz: bool) -> None:
    header = bytes([0, 0, 0x08, 2]) + (10**9).to_bytes(4, "big") * 2  # 10^9 x 10^9 bytes
    path = tmp_path / ("f.gz" if gz else "f")
    data = header + bytes(64)
    path.write_bytes(gzip.compress(data) if gz else data)
    with pytest.raises(DataError, match=r"not a valid IDX file: its header announces shape \(1000000000, 1000000000\)"):
        gd.read_idx(path)
    with pytest.raises(DataError, match="not a valid IDX file"):
        gd.parse_idx(data, name="f")


def test_a_gzip_bomb_is_not_decompressed_past_the_announced_size(tmp_path: Path, make_idx) -> None:
    import tracemalloc
    import zlib

    # a valid 2x3x4 IDX file followed by 64 MB of zeros, about 64 kB once gzipped
    z = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunks = [z.compress(make_idx(np.zeros((2, 3, 4), dtype=np.uint8)))]
    zeros = bytes(2**20)
    chunks += [z.compress(zeros) for _ in range(64)]
    path = tmp_path / "bomb.gz"
    path.write_bytes(b"".join(chunks) + z.flush())
    tracemalloc.start()
    with pytest.raises(DataError, match=r"bomb\.gz is corrupt: more data follows the \(2, 3, 4\) data"):
        gd.read_idx(path)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 8 * 2**20, f"read_idx allocated {peak} bytes for a 24-byte IDX file"


def test_a_raw_file_longer_than_announced_is_rejected_before_it_is_read(tmp_path: Path, make_idx) -> None:
    path = tmp_path / "long"
    path.write_bytes(make_idx(np.zeros((2, 3, 4), dtype=np.uint8)) + bytes(1000))
    with pytest.raises(DataError, match=r"long is corrupt: 1000 unexpected bytes follow the \(2, 3, 4\) data"):
        gd.read_idx(path)


# --- load_idx with a tiny spec ---------------------------------------------------------------------


def test_load_idx_tiny_dataset_from_root(tmp_path: Path, tiny_idx, tiny_spec) -> None:
    tiny_idx.write(tmp_path)
    ds = load_idx(tiny_spec, "train", tmp_path)
    assert ds.x.shape == (12, 1, 4, 4) and ds.x.dtype == torch.float32
    assert torch.equal(ds.x[:, 0], torch.from_numpy(tiny_idx.images["train"]).float() / 255)
    assert torch.equal(ds.y, torch.from_numpy(tiny_idx.labels["train"]).long())
    assert ds.info.class_names == ("a", "b", "c") and ds.info.value_range == (0.0, 1.0)
    test = load_idx(tiny_spec, "test", tmp_path, scale=None, flatten=True)
    assert test.x.shape == (5, 16) and test.info.value_range == (0.0, 255.0)
    assert torch.equal(test.x, torch.from_numpy(tiny_idx.images["t10k"].reshape(5, 16)).float())


def test_search_order_root_then_genlab_data_then_cache_and_named_subfolder_first(
    tmp_path: Path, tiny_idx, tiny_spec, monkeypatch: pytest.MonkeyPatch, isolated_env: Path
) -> None:
    tiny_idx.write(isolated_env / "tiny")  # cache/<name>/
    assert load_idx(tiny_spec, "test").extras["files"][0].startswith(str(isolated_env / "tiny"))
    monkeypatch.setenv("GENLAB_DATA", str(tmp_path / "env"))
    tiny_idx.write(tmp_path / "env")  # $GENLAB_DATA itself
    assert Path(load_idx(tiny_spec, "test").info.source) == tmp_path / "env"
    tiny_idx.write(tmp_path / "env" / "tiny")  # $GENLAB_DATA/<name>/ wins over $GENLAB_DATA/
    assert Path(load_idx(tiny_spec, "test").info.source) == tmp_path / "env" / "tiny"
    tiny_idx.write(tmp_path / "root", gz=False)  # root= wins over everything
    assert Path(load_idx(tiny_spec, "test", tmp_path / "root").info.source) == tmp_path / "root"


def test_missing_files_without_download_say_where_to_put_them(tmp_path: Path, tiny_spec, isolated_env) -> None:
    with pytest.raises(DatasetNotFoundError) as info:
        load_idx(tiny_spec, "train", tmp_path, download=False)
    message = str(info.value)
    assert "train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz]" in message
    assert f"Looked in: {tmp_path / 'tiny'}, {tmp_path}, {isolated_env / 'tiny'}, {isolated_env}" in message
    assert "download=False" in message and "GENLAB_DATA" in message
    assert "t10k-labels-idx1-ubyte.gz" in message  # all four files are named


def test_labels_out_of_range_and_count_mismatch_are_corrupt(tmp_path: Path, tiny_idx, make_idx) -> None:
    from dataclasses import replace

    tiny_idx.raw["t10k-labels-idx1-ubyte"] = make_idx(np.array([0, 1, 7, 0, 1], dtype=np.uint8))
    tiny_idx.raw["train-labels-idx1-ubyte"] = make_idx(np.zeros(3, dtype=np.uint8))
    tiny_idx.write(tmp_path)
    spec = replace(MNIST, name="tiny", image_shape=(4, 4), sha256=dict.fromkeys(MNIST.sha256, None))
    with pytest.raises(DataError, match="has label 7 but MNIST has 3 classes"):
        load_idx(replace(spec, class_names=("a", "b", "c")), "test", tmp_path)
    with pytest.raises(DataError, match=r"has 12 images but .* has 3 labels"):
        load_idx(spec, "train", tmp_path)


# --- real MNIST ------------------------------------------------------------------------------------


def test_mnist_train_from_genlab_data(mnist_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GENLAB_DATA", str(mnist_dir))
    ds = gd.load("mnist")
    assert ds.x.shape == (60_000, 1, 28, 28) and ds.x.dtype == torch.float32
    assert ds.y.dtype == torch.int64 and ds.y[:5].tolist() == [5, 0, 4, 1, 9]
    assert torch.bincount(ds.y).tolist() == MNIST_TRAIN_COUNTS
    assert ds.x.min() == 0.0 and ds.x.max() == 1.0 and ds.info.value_range == (0.0, 1.0)
    assert abs(ds.x.mean().item() - 0.1307) < 1e-3
    assert ds.info.class_names == tuple("0123456789")


def test_mnist_test_gz_and_raw_give_the_same_data(mnist_dir: Path, tmp_path: Path) -> None:
    gz = gd.load("mnist", split="test", root=mnist_dir, scale="symmetric")
    for stem in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        (tmp_path / stem).write_bytes(gzip.decompress((mnist_dir / f"{stem}.gz").read_bytes()))
    raw = gd.load("mnist", split="test", root=tmp_path, scale="symmetric")
    assert raw.extras["files"] == [str(tmp_path / "t10k-images-idx3-ubyte"), str(tmp_path / "t10k-labels-idx1-ubyte")]
    assert torch.equal(gz.x, raw.x) and torch.equal(gz.y, raw.y)
    assert torch.bincount(raw.y).tolist() == MNIST_TEST_COUNTS
    assert raw.x.min() == -1.0 and raw.x.max() == 1.0 and raw.info.value_range == (-1.0, 1.0)


def test_mnist_corrupted_label_file_raises_checksum_error(mnist_dir: Path, tmp_path: Path) -> None:
    shutil.copy(mnist_dir / "t10k-images-idx3-ubyte.gz", tmp_path)
    labels = bytearray(gzip.decompress((mnist_dir / "t10k-labels-idx1-ubyte.gz").read_bytes()))
    labels[100] = (labels[100] + 1) % 10  # still a valid IDX file with labels 0..9
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(labels)
    actual = hashlib.sha256(labels).hexdigest()
    expected = MNIST.sha256["t10k-labels-idx1-ubyte"]
    pattern = rf"t10k-labels-idx1-ubyte is not the expected file.*{actual} but {expected}.*delete it and run again"
    with pytest.raises(ChecksumError, match=pattern):
        gd.load("mnist", split="test", root=tmp_path)


def test_mnist_truncated_file_is_reported(mnist_dir: Path, tmp_path: Path) -> None:
    shutil.copy(mnist_dir / "t10k-labels-idx1-ubyte.gz", tmp_path)
    blob = (mnist_dir / "t10k-images-idx3-ubyte.gz").read_bytes()
    (tmp_path / "t10k-images-idx3-ubyte.gz").write_bytes(blob[: len(blob) // 3])
    with pytest.raises(DataError, match=r"t10k-images-idx3-ubyte\.gz is truncated or corrupt"):
        gd.load("mnist", split="test", root=tmp_path)


def test_mnist_files_are_not_accepted_as_fashion_mnist(mnist_dir: Path, tmp_path: Path) -> None:
    gz_dir, raw_dir = tmp_path / "gz", tmp_path / "raw"
    gz_dir.mkdir(), raw_dir.mkdir()
    for stem in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        shutil.copy(mnist_dir / f"{stem}.gz", gz_dir)
        (raw_dir / stem).write_bytes(gzip.decompress((mnist_dir / f"{stem}.gz").read_bytes()))
    with pytest.raises(ChecksumError, match=rf"{FASHION_MNIST.sha256['t10k-images-idx3-ubyte']} was expected.*"
                       r"It is the MNIST t10k-images-idx3-ubyte file"):  # fmt: skip
        gd.load("fashion-mnist", split="test", root=gz_dir)
    # Raw Fashion-MNIST files cannot be verified (its digests are of the .gz files), but MNIST's are recognised.
    with pytest.raises(DataError, match="is the MNIST t10k-images-idx3-ubyte file, not Fashion-MNIST's"):
        gd.load("fashion-mnist", split="test", root=raw_dir)


def test_mnist_offline_and_missing_says_where_to_put_the_files(
    tmp_path: Path, closed_url: str, isolated_env: Path
) -> None:
    with pytest.raises(DatasetNotFoundError) as info:
        gd.load("mnist", root=tmp_path, mirrors=[closed_url])
    message = str(info.value)
    assert "MNIST train files not found: train-images-idx3-ubyte[.gz]" in message
    assert f"Looked in: {tmp_path / 'mnist'}, {tmp_path}, {isolated_env / 'mnist'}, {isolated_env}." in message
    assert f"Download failed: {closed_url}train-images-idx3-ubyte.gz: network error" in message
    assert f"into {isolated_env / 'mnist'}, or into any directory and point GENLAB_DATA" in message
    assert "t10k-images-idx3-ubyte.gz" in message
    assert not [p for p in isolated_env.rglob("*") if p.is_file()]  # nothing half-downloaded left behind


def test_fashion_mnist_missing_message_and_class_names(tmp_path: Path, isolated_env: Path) -> None:
    assert FASHION_MNIST.class_names[0] == "T-shirt/top" and FASHION_MNIST.class_names[9] == "Ankle boot"
    with pytest.raises(DatasetNotFoundError) as info:
        gd.load("fashion-mnist", split="test", root=tmp_path, download=False)
    message = str(info.value)
    assert "Fashion-MNIST test files not found: t10k-images-idx3-ubyte[.gz]" in message
    assert f"{tmp_path / 'fashion-mnist'}, {tmp_path}," in message
    assert "github.com/zalandoresearch/fashion-mnist" in message


def test_fashion_mnist_gz_digest_is_of_the_file_bytes(tmp_path: Path, make_idx) -> None:
    from dataclasses import replace

    from genlab.data.idx import load_idx

    rng = np.random.RandomState(1)
    blobs = {
        "t10k-images-idx3-ubyte": gzip.compress(make_idx(rng.randint(0, 256, (4, 28, 28)).astype(np.uint8))),
        "t10k-labels-idx1-ubyte": gzip.compress(make_idx(np.array([0, 9, 3, 3], dtype=np.uint8))),
    }
    folder = tmp_path / "fashion-mnist"
    folder.mkdir()
    for stem, blob in blobs.items():
        (folder / f"{stem}.gz").write_bytes(blob)
    spec = replace(FASHION_MNIST, sha256={stem: hashlib.sha256(blob).hexdigest() for stem, blob in blobs.items()})
    ds = load_idx(spec, "test", tmp_path)
    assert ds.x.shape == (4, 1, 28, 28) and ds.y.tolist() == [0, 9, 3, 3]
    assert ds.info.class_names[ds.y[1]] == "Ankle boot"
    # The same contents recompressed differently no longer match a digest of the .gz bytes.
    labels = folder / "t10k-labels-idx1-ubyte.gz"
    labels.write_bytes(gzip.compress(gzip.decompress(labels.read_bytes()), compresslevel=1, mtime=12345))
    with pytest.raises(ChecksumError, match="SHA-256 of its bytes"):
        load_idx(spec, "test", tmp_path)
