"""What the applications share: scaling, config mapping, seeds, pickling."""

import copy
import pickle

import numpy as np
import pytest
import torch

from genlab.apps import AutoencoderApp, Detector, FeatureExtractor, Standardizer, autoencoder_names
from genlab.errors import ConfigError, DataError


def _table(n=80, d=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn((n, d), generator=g) * torch.tensor([1.0, 10.0, 0.1, 3.0, 100.0])[:d] + 5.0


def test_standardizer_ignores_nan_and_keeps_constant_features():
    x = _table()
    x[:, 3] = 7.0  # constant: scale 1
    x[::4, 0] = float("nan")
    s = Standardizer.fit(x)
    arr = x.double().numpy()
    assert np.allclose(s.mean.numpy(), np.nanmean(arr, 0), rtol=1e-6)
    expected = np.nanstd(arr, 0)
    expected[3] = 1.0
    assert np.allclose(s.scale.numpy(), expected, rtol=1e-5)
    z = s.transform(x)
    assert torch.allclose(torch.nanmean(z, 0), torch.zeros(5), atol=1e-5)
    assert torch.allclose(s.inverse(z), x, rtol=1e-5, atol=1e-4, equal_nan=True)
    back = Standardizer.from_dict(s.to_dict())
    assert torch.equal(back.mean, s.mean) and torch.equal(back.scale, s.scale)
    x[:, 1] = float("nan")
    with pytest.raises(DataError, match=r"entry \(1,\)"):
        Standardizer.fit(x)


def test_same_seed_same_numbers_other_seed_other_numbers():
    x = _table()
    a = FeatureExtractor(latent_dim=2, hidden_dims=(8,), epochs=3, seed=5).fit(x)
    b = FeatureExtractor(latent_dim=2, hidden_dims=(8,), epochs=3, seed=5).fit(x)
    c = FeatureExtractor(latent_dim=2, hidden_dims=(8,), epochs=3, seed=6).fit(x)
    assert torch.equal(a.transform(x), b.transform(x))
    assert [r["loss"] for r in a.history] == [r["loss"] for r in b.history]
    assert not torch.allclose(a.transform(x), c.transform(x))


def test_results_do_not_depend_on_the_other_samples_of_the_batch():
    x = _table(300)
    det = Detector(latent_dim=2, hidden_dims=(8,), epochs=2, seed=0).fit(x)
    full = det.score(x)
    one_by_one = torch.cat([det.score(x[i : i + 1]) for i in range(0, 300, 37)])
    assert torch.allclose(full[::37], one_by_one, rtol=1e-12, atol=0)


def test_pickle_and_deepcopy_rebuild_the_model():
    x = _table()
    det = Detector(latent_dim=2, hidden_dims=(8,), epochs=2, seed=0).fit(x)
    for clone in (pickle.loads(pickle.dumps(det)), copy.deepcopy(det)):
        assert clone.model is not det.model and clone.model.registry_name == "ae"
        assert torch.equal(clone.score(x), det.score(x))
        assert clone.threshold == det.threshold


def test_config_mapping():
    x = _table(d=4)
    app = AutoencoderApp("stacked_ae", latent_dim=np.int64(3), hidden_dims=[np.int64(6)], epochs=2).fit(x)
    assert app.model.config.layer_dims == (6, 3)  # widths then the code
    assert app.encode(x).shape == (80, 3)
    app = AutoencoderApp("stacked_ae", latent_dim=2, epochs=1, model_params={"pretrain_epochs": 1}).fit(x)
    assert app.model.config.layer_dims[-1] == 2 and len(app.model.config.layer_dims) == 3
    cfg = AutoencoderApp("vae", latent_dim=3, model_params={"likelihood": "gaussian"}).model_config((4,))
    assert cfg == {"data_shape": (4,), "latent_dim": 3, "likelihood": "gaussian"}
    assert {"ae", "vae", "sparse_ae", "denoising_ae", "stacked_ae"} <= set(autoencoder_names())
    with pytest.raises(ConfigError, match="set it with the latent_dim argument"):
        AutoencoderApp(latent_dim=3, model_params={"latent_dim": 4}).model_config((4,))
    with pytest.raises(ConfigError, match="it comes from the data"):
        AutoencoderApp(model_params={"data_shape": (3,)}).model_config((4,))
    with pytest.raises(ConfigError, match="lattent_dim"):
        AutoencoderApp(epochs=1, model_params={"lattent_dim": 3}).fit(x)
    with pytest.raises(ConfigError, match="standardize=True"):
        AutoencoderApp(standardize=True, model_params={"loss": "bce"}, epochs=1).fit(x.clamp(0, 1))
    with pytest.raises(ConfigError, match="standardize"):
        AutoencoderApp(standardize="yes")
    with pytest.raises(ConfigError, match="epochs"):
        AutoencoderApp(epochs=-1)
    with pytest.raises(ConfigError, match="registry name"):
        AutoencoderApp(model=None)
    with pytest.raises(DataError, match="validation samples"):
        AutoencoderApp(epochs=1).fit(x, val_data=torch.zeros((3, 5)))


def test_verbose_shows_progress_and_quiet_shows_nothing(capsys):
    x = _table()
    AutoencoderApp(latent_dim=2, hidden_dims=(8,), epochs=1).fit(x)
    assert capsys.readouterr().err == ""
    AutoencoderApp(latent_dim=2, hidden_dims=(8,), epochs=1, verbose=True).fit(x)
    assert "epoch" in capsys.readouterr().err.lower()
