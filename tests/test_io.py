import json

import pytest
import torch

import genlab
from genlab.errors import ModelFileError, RunExistsError, UnknownModelError
from genlab.io import read_meta


@pytest.fixture
def saved(tmp_path):
    m = genlab.create("vae", data_shape=(1, 4, 4), hidden_dims=(8,), latent_dim=3)
    path = m.save(tmp_path / "m")
    return m, path


def test_directory_has_the_three_files_and_meta(saved):
    _, path = saved
    assert sorted(p.name for p in path.iterdir()) == ["config.json", "meta.json", "model.safetensors"]
    meta = read_meta(path)
    assert meta["model"] == "vae" and meta["format_version"] == 1
    assert meta["genlab_version"] == genlab.__version__ and meta["torch_version"] == torch.__version__
    cfg = json.loads((path / "config.json").read_text())
    assert cfg["model"] == "vae" and cfg["config"]["latent_dim"] == 3


def test_meta_records_the_data(tmp_path):
    from genlab.data.dataset import DatasetInfo

    m = genlab.create("vae", data_shape=(1, 4, 4), hidden_dims=(8,), latent_dim=3)
    m.data_info = DatasetInfo("toy", (1, 4, 4), (0.0, 1.0), ("a", "b"), "generated")
    m.save(tmp_path / "m")
    again = genlab.load(tmp_path / "m")
    assert again.data_info == m.data_info
    assert read_meta(tmp_path / "m")["data"]["sample_shape"] == [1, 4, 4]


def test_existing_directory_is_not_overwritten(saved):
    m, path = saved
    before = (path / "model.safetensors").read_bytes()
    with pytest.raises(RunExistsError, match="already exists"):
        m.save(path)
    assert (path / "model.safetensors").read_bytes() == before
    with torch.no_grad():
        next(m.parameters()).add_(1.0)
    m.save(path, overwrite=True)
    assert torch.equal(next(genlab.load(path).parameters()), next(m.parameters()))


def test_missing_file_is_named(saved):
    _, path = saved
    (path / "model.safetensors").unlink()
    with pytest.raises(ModelFileError, match=r"no model\.safetensors"):
        genlab.load(path)


def test_corrupt_tensor_file(saved):
    _, path = saved
    data = (path / "model.safetensors").read_bytes()
    (path / "model.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match="corrupt or truncated"):
        genlab.load(path)


def test_corrupt_json(saved):
    _, path = saved
    (path / "config.json").write_text("{")
    with pytest.raises(ModelFileError, match=r"config\.json is corrupt"):
        genlab.load(path)


def test_newer_format_asks_for_an_upgrade(saved):
    _, path = saved
    meta = json.loads((path / "meta.json").read_text())
    meta["format_version"] = 99
    (path / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(ModelFileError, match=r"format 99.*upgrade genlab"):
        genlab.load(path)


def test_unknown_model_name_in_directory(saved):
    _, path = saved
    cfg = json.loads((path / "config.json").read_text())
    cfg["model"] = "vae_from_the_future"
    (path / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ModelFileError, match="does not know"):
        genlab.load(path)


def test_config_that_does_not_fit_the_tensors(saved):
    _, path = saved
    cfg = json.loads((path / "config.json").read_text())
    cfg["config"]["latent_dim"] = 5
    (path / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ModelFileError, match="has shape"):
        genlab.load(path)


def test_config_from_a_future_version_with_unknown_option(saved):
    _, path = saved
    cfg = json.loads((path / "config.json").read_text())
    cfg["config"]["flux_capacitor"] = True
    (path / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ModelFileError, match="flux_capacitor"):
        genlab.load(path)


def test_load_never_unpickles(saved, monkeypatch):
    import pickle

    _, path = saved

    def boom(*a, **k):
        raise AssertionError("pickle used")

    monkeypatch.setattr(pickle, "load", boom)
    monkeypatch.setattr(pickle, "loads", boom)
    monkeypatch.setattr(torch, "load", boom)
    genlab.load(path)


def test_not_a_directory(tmp_path):
    with pytest.raises(ModelFileError, match="does not exist"):
        genlab.load(tmp_path / "nope")
    (tmp_path / "f").write_text("x")
    with pytest.raises(ModelFileError, match="is a file"):
        genlab.load(tmp_path / "f")


def test_unknown_model_name_suggests():
    with pytest.raises(UnknownModelError, match="did you mean 'vae'"):
        genlab.create("vea")


def test_load_leaves_global_rng_alone_and_files_are_readable(saved):
    import os
    import stat

    _, path = saved
    state = torch.get_rng_state()
    genlab.load(path)
    assert torch.equal(state, torch.get_rng_state())
    umask = os.umask(0)
    os.umask(umask)
    for f in path.iterdir():
        assert stat.S_IMODE(f.stat().st_mode) == 0o666 & ~umask, f
    assert stat.S_IMODE(path.stat().st_mode) == 0o777 & ~umask
