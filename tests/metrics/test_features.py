"""The shipped feature networks: checksums, accuracy, input checks, batch-size independence, the cache, and the
Inception backend's offline behaviour."""

from __future__ import annotations

import shutil
import sys
import types

import pytest
import torch

from genlab.data import load
from genlab.errors import ChecksumError, ConfigError, DataError
from genlab.metrics import dataset_features, extract_features, feature_extractor, fid, list_feature_nets
from genlab.metrics import features as features_module
from genlab.metrics.features import DomainFeatures, InceptionFeatures


@pytest.fixture(scope="module")
def digits_test():
    return load("digits", split="test")


def test_shipped_nets_are_listed_with_their_accuracy():
    nets = list_feature_nets()
    assert {"digits-cnn", "mnist-cnn"} <= set(nets)
    assert nets["mnist-cnn"]["test_accuracy"] >= 99.3
    assert tuple(nets["mnist-cnn"]["input_shape"]) == (1, 28, 28)


def test_digits_net_classifies_the_test_split(digits_test):
    net = DomainFeatures("digits-cnn")
    f = net(digits_test.x)
    assert f.features.shape == (len(digits_test), 128) and f.logits.shape == (len(digits_test), 10)
    acc = float((f.logits.argmax(1) == digits_test.y).double().mean())
    assert acc >= 0.98 and abs(100 * acc - net.test_accuracy) < 0.006  # the manifest's figure, reproduced


def test_mnist_net_reaches_its_accuracy(mnist_root):
    test = load("mnist", split="test", root=mnist_root)
    f = extract_features(test.x)  # auto: the 28x28 network
    assert f.extractor == "mnist-cnn"
    assert float((f.logits.argmax(1) == test.y).double().mean()) >= 0.993


def test_auto_selection_and_errors(digits_test):
    assert feature_extractor("auto", (1, 8, 8)).name == "digits-cnn"
    assert feature_extractor("auto", (64,)).name == "digits-cnn"  # flat 8x8 images
    assert feature_extractor("auto", (2,)).name == "identity"
    with pytest.raises(ConfigError, match="no shipped feature network"):
        feature_extractor("auto", (3, 32, 32))
    with pytest.raises(ConfigError, match="unknown feature network"):
        feature_extractor("cifar-net")
    net = DomainFeatures("digits-cnn")
    with pytest.raises(DataError, match=r"shape \(1, 8, 8\)"):
        net(torch.rand(4, 1, 28, 28))
    with pytest.raises(DataError, match="value_range"):
        net(digits_test.x * 2 - 1)  # samples in [-1, 1] passed as [0, 1]
    with pytest.raises(DataError, match="NaN"):
        net(torch.full((2, 1, 8, 8), float("nan")))


def test_value_range_maps_samples_onto_the_networks_range(digits_test):
    net = DomainFeatures("digits-cnn")
    a = net(digits_test.x).features
    b = net(digits_test.x * 2 - 1, value_range=(-1.0, 1.0)).features
    assert torch.allclose(a, b, atol=1e-5)


def test_features_and_fid_do_not_depend_on_the_batch_size(digits_test):
    big, small = DomainFeatures("digits-cnn", batch_size=1000), DomainFeatures("digits-cnn", batch_size=7)
    fa, fb = big(digits_test.x), small(digits_test.x)
    assert torch.allclose(fa.features, fb.features, atol=1e-5)
    half = len(digits_test) // 2
    v1 = fid(real=fa.subset(torch.arange(half)), fake=fa.subset(torch.arange(half, len(fa)))).value
    v2 = fid(real=fb.subset(torch.arange(half)), fake=fb.subset(torch.arange(half, len(fb)))).value
    assert v1 == pytest.approx(v2, rel=1e-5)


def test_a_changed_weights_file_is_refused(tmp_path, monkeypatch):
    weights = tmp_path / "weights"
    shutil.copytree(features_module.WEIGHTS_DIR, weights)
    blob = bytearray((weights / "digits-cnn.safetensors").read_bytes())
    blob[-1] ^= 0xFF
    (weights / "digits-cnn.safetensors").write_bytes(bytes(blob))
    from genlab.nn import feature_nets  # where the weights are loaded and checked

    monkeypatch.setattr(feature_nets, "WEIGHTS_DIR", weights)
    monkeypatch.setattr(feature_nets, "MANIFEST", weights / "manifest.json")
    with pytest.raises(ChecksumError, match="reinstall genlab"):
        DomainFeatures("digits-cnn")


def test_dataset_features_are_cached_by_data_digest(tmp_path, monkeypatch, digits_test):
    monkeypatch.setenv("GENLAB_CACHE", str(tmp_path))
    calls = []
    net = DomainFeatures("digits-cnn")

    class Counting:
        name, digest = net.name, net.digest

        def __call__(self, x, value_range=(0.0, 1.0)):
            calls.append(len(x))
            return net(x, value_range)

    first = dataset_features(digits_test.x, Counting(), label="digits-test")
    again = dataset_features(digits_test.x, Counting(), label="digits-test")
    assert calls == [len(digits_test)] and torch.equal(first.features, again.features)
    assert torch.equal(first.logits, again.logits)
    changed = digits_test.x.clone()
    changed[0, 0, 0, 0] = 1.0 - changed[0, 0, 0, 0]
    dataset_features(changed, Counting(), label="digits-test")
    assert calls == [len(digits_test)] * 2  # other data: a miss, never the stale entry
    assert len(list((tmp_path / "features").rglob("*.safetensors"))) == 2


def test_inception_backend_never_downloads(tmp_path, monkeypatch):
    monkeypatch.delenv(features_module.INCEPTION_ENV, raising=False)
    with pytest.raises(ConfigError, match="GENLAB_INCEPTION_WEIGHTS"):
        InceptionFeatures()
    with pytest.raises(ConfigError, match="does not exist"):
        InceptionFeatures(tmp_path / "missing.pth")
    weights = tmp_path / "inception.pth"
    weights.write_bytes(b"weights")
    monkeypatch.setitem(sys.modules, "torch_fidelity", None)  # the package is not installed
    with pytest.raises(ConfigError, match="pip install torch-fidelity"):
        InceptionFeatures(weights)


def test_inception_backend_hands_torch_fidelity_the_local_file(tmp_path, monkeypatch):
    weights = tmp_path / "inception.pth"
    weights.write_bytes(b"weights")
    seen = {}

    class FakeExtractor(torch.nn.Module):  # stands in for torch-fidelity's FeatureExtractorInceptionV3
        def __init__(self, name, features_list, feature_extractor_weights_path=None):
            super().__init__()
            seen.update(name=name, features=features_list, path=feature_extractor_weights_path)

        def forward(self, x):
            seen["input"] = (x.dtype, tuple(x.shape[1:]), int(x.max()))
            return x.float().mean((2, 3)).repeat(1, 4), torch.zeros(len(x), 1008)

    module = types.ModuleType("torch_fidelity.feature_extractor_inceptionv3")
    module.FeatureExtractorInceptionV3 = FakeExtractor
    monkeypatch.setitem(sys.modules, "torch_fidelity", types.ModuleType("torch_fidelity"))
    monkeypatch.setitem(sys.modules, "torch_fidelity.feature_extractor_inceptionv3", module)
    monkeypatch.setenv(features_module.INCEPTION_ENV, str(weights))
    ext = feature_extractor("inception")
    f = ext(torch.ones(3, 1, 28, 28))
    assert seen["path"] == str(weights) and seen["features"] == ["2048", "logits_unbiased"]
    assert seen["input"] == (torch.uint8, (3, 28, 28), 255)  # grey -> three channels, 0..255
    assert f.features.shape == (3, 12) and f.extractor == "inception-v3"
