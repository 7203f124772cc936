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


# --- hostile or broken model directories: a ModelFileError, never a traceback, a hang or an allocation ----
def _edit_json(path, name, change):
    doc = json.loads((path / name).read_text())
    change(doc)
    (path / name).write_text(json.dumps(doc))


def _edit_tensors(path, change):
    from safetensors.torch import load_file, save_file

    tensors = load_file(str(path / "model.safetensors"))
    change(tensors)
    save_file(tensors, str(path / "model.safetensors"))


def test_a_config_width_beyond_the_bound_is_refused_by_config_validation(saved):
    _, path = saved
    _edit_json(path, "config.json", lambda d: d["config"].update(hidden_dims=[70_000]))
    with pytest.raises(ModelFileError, match=r"config\.json does not fit.*hidden_dims = \(70000,\) must be <= 65536"):
        genlab.load(path)


def test_tensors_are_checked_against_a_meta_device_build_before_anything_is_allocated(saved, monkeypatch):
    from genlab.registry import ModelEntry

    _, path = saved
    _edit_json(path, "config.json", lambda d: d["config"].update(hidden_dims=[60_000, 60_000]))  # ~29 GB on a CPU
    devices = []
    real_build = ModelEntry.build

    def build(self, *args, **kwargs):
        devices.append(torch.get_default_device().type)
        return real_build(self, *args, **kwargs)

    monkeypatch.setattr(ModelEntry, "build", build)
    with pytest.raises(
        ModelFileError,
        match=r"model\.safetensors does not match the model built from its config \(missing: \['decoder\.blocks\.1",
    ):
        genlab.load(path)
    assert devices == ["meta"]


def test_a_model_larger_than_max_model_bytes_is_refused(saved, monkeypatch):
    import genlab.io

    _, path = saved
    monkeypatch.setattr(genlab.io, "MAX_MODEL_BYTES", 1000)
    with pytest.raises(ModelFileError, match=r"describes a model of .* GiB or more.*MAX_MODEL_BYTES"):
        genlab.load(path)


def test_a_model_that_cannot_be_built_on_meta_is_bounded_and_checked_after_a_cpu_build(tmp_path, monkeypatch):
    import genlab.io
    from genlab.models.autoregressive.made import MADE

    real_order = MADE.order

    def order_needing_values(self, index=0):  # a data-dependent constructor: .item() fails on the meta device
        torch.zeros(1).item()
        return real_order(self, index)

    monkeypatch.setattr(MADE, "order", order_needing_values)
    m = genlab.create("made", data_shape=(6,), hidden_dims=(8,))  # its masks now need real values (.item())
    path = m.save(tmp_path / "made")
    again = genlab.load(path)
    assert all(torch.equal(a, b) for a, b in zip(m.state_dict().values(), again.state_dict().values(), strict=True))
    _edit_json(path, "config.json", lambda d: d["config"].update(hidden_dims=[9]))
    with pytest.raises(ModelFileError, match=r"has shape \(8, 6\) but the config builds \(9, 6\)"):
        genlab.load(path)
    monkeypatch.setattr(genlab.io, "MAX_MODEL_BYTES", 100)  # the bytes registered before the meta build failed
    with pytest.raises(ModelFileError, match="MAX_MODEL_BYTES"):
        genlab.load(path)


def test_a_tensor_of_another_dtype_is_refused(saved):
    _, path = saved
    _edit_tensors(path, lambda t: t.update({k: v.double() for k, v in t.items()}))
    with pytest.raises(ModelFileError, match=r"tensor '.*' is float64 but the model holds float32"):
        genlab.load(path)


@pytest.mark.parametrize(
    ("header", "match"),
    [
        ((2**62).to_bytes(8, "little") + b"{}", r"announces a 4611686018427387904-byte header"),
        ((2).to_bytes(8, "little") + b"[]", r"header is not a JSON object"),
        ((3).to_bytes(8, "little") + b"{\xff}", r"header is not valid JSON"),
        ((4).to_bytes(8, "little"), r"announces a 4-byte header but holds 8 bytes"),
        (b"\x01", r"1 bytes, less than a safetensors header"),
    ],
)
def test_a_broken_safetensors_header_is_a_model_file_error(saved, header, match):
    _, path = saved
    (path / "model.safetensors").write_bytes(header)
    with pytest.raises(ModelFileError, match=match):
        genlab.load(path)


def test_a_header_whose_tensors_do_not_tile_the_file_is_refused(saved):
    from genlab.io import read_safetensors_header

    _, path = saved
    data = (path / "model.safetensors").read_bytes()
    (path / "model.safetensors").write_bytes(data + b"\x00" * 16)
    with pytest.raises(ModelFileError, match=r"describes \d+ bytes of tensor data but \d+ follow"):
        read_safetensors_header(path / "model.safetensors")


@pytest.mark.parametrize(
    ("data", "match"),
    [
        ("oops", r"data: must be a JSON object"),
        ({"name": "x", "sample_shape": [1, 4, 4]}, r"data: the entry 'value_range' is missing"),
        ({"name": 3, "sample_shape": [1, 4, 4], "value_range": [0, 1]}, r"name must be a string"),
        ({"name": "x", "sample_shape": "1,4,4", "value_range": [0, 1]}, r"sample_shape must be a list"),
        ({"name": "x", "sample_shape": [1, -4, 4], "value_range": [0, 1]}, r"sample_shape must be a list"),
        ({"name": "x", "sample_shape": [1, 4.5], "value_range": [0, 1]}, r"sample_shape must be a list"),
        ({"name": "x", "sample_shape": [10**6, 10**6], "value_range": [0, 1]}, r"holds more than 16777216 values"),
        ({"name": "x", "sample_shape": [16], "value_range": [0]}, r"value_range must be \[low, high\]"),
        ({"name": "x", "sample_shape": [16], "value_range": ["a", "b"]}, r"value_range must be \[low, high\]"),
        ({"name": "x", "sample_shape": [16], "value_range": [1, 0]}, r"value_range must be \[low, high\]"),
        ({"name": "x", "sample_shape": [16], "value_range": [0, 1], "class_names": 5}, r"class_names must be null"),
        ({"name": "x", "sample_shape": [16], "value_range": [0, 1], "colour": "red"}, r"unknown entry 'colour'"),
    ],
)
def test_a_malformed_data_entry_in_meta_json_is_a_model_file_error(saved, data, match):
    _, path = saved
    _edit_json(path, "meta.json", lambda d: d.update(data=data))
    with pytest.raises(ModelFileError, match=r"meta\.json: data: (.* )?" + match.removeprefix(r"data: ")):
        genlab.load(path)
    with pytest.raises(ModelFileError, match=match):
        read_meta(path)


def test_a_non_finite_value_range_in_meta_json_is_refused(saved):
    _, path = saved
    text = (
        (path / "meta.json")
        .read_text()
        .replace('"data": null', '"data": {"name": "x", "sample_shape": [16], "value_range": [0, NaN]}')
    )
    (path / "meta.json").write_text(text)
    with pytest.raises(ModelFileError, match=r"value_range must be \[low, high\], two finite numbers"):
        genlab.load(path)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda d: d.update(colour="red"), r"meta\.json has an unknown entry 'colour'"),
        (lambda d: d.update(genlab_version=3), r"genlab_version must be str, got 3"),
        (lambda d: d.update(model="gan"), r"describes a 'gan' model but config\.json holds a 'vae' model"),
        (lambda d: d.update(format_version="1"), r"format_version must be a positive integer, got '1'"),
        (lambda d: d.update(format_version=0), r"format_version must be a positive integer, got 0"),
    ],
)
def test_other_meta_json_entries_are_validated(saved, change, match):
    _, path = saved
    _edit_json(path, "meta.json", change)
    with pytest.raises(ModelFileError, match=match):
        genlab.load(path)


def test_sample_on_a_directory_with_a_broken_meta_json_is_a_one_line_error(saved, tmp_path, capsys):
    from genlab.cli.main import main

    _, path = saved
    _edit_json(path, "meta.json", lambda d: d.update(data={"name": "x", "sample_shape": "a", "value_range": [0, 1]}))
    code = main(["sample", str(path), "-n", "4", "--out", str(tmp_path / "s.png")])
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err and "sample_shape must be a list" in err
    assert not (tmp_path / "s.png").exists()


@pytest.mark.parametrize(
    ("setup", "why"),
    [
        (lambda p: None, r"no config\.json"),
        (
            lambda p: (p / "config.json").write_text('{"model_type": "bert", "hidden_size": 768}'),
            r"its config\.json has no 'model' and",
        ),
        (lambda p: (p / "config.json").write_text('{"model": "vae", "config": {}}'), r"no meta\.json"),
        (
            lambda p: [
                (p / "config.json").write_text('{"model": "vae", "config": {}}'),
                (p / "meta.json").write_text('{"model": "vae"}'),
            ],
            r"its meta\.json has no format_version",
        ),
    ],
    ids=["empty", "another-projects-config", "no-meta", "no-format-version"],
)
def test_a_folder_that_is_not_a_genlab_model_says_so(tmp_path, setup, why):
    folder = tmp_path / "not-a-model"
    folder.mkdir()
    setup(folder)
    with pytest.raises(ModelFileError, match=rf"not-a-model is not a genlab model directory \({why}") as info:
        genlab.load(folder)
    assert "upgrade" not in str(info.value) and "format None" not in str(info.value)


def test_config_json_is_checked_before_meta_json(saved):
    _, path = saved
    (path / "config.json").write_text("{")
    (path / "meta.json").write_text("{")
    with pytest.raises(ModelFileError, match=r"config\.json is corrupt"):
        genlab.load(path)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ('{"model": "vae", "config": {"latent_dim": Infinity}}', r"latent_dim must be an integer, got inf"),
        ('{"model": "vae", "config": ' + "[" * 50_000 + "]" * 50_000 + "}", "nested too deeply"),
        ('{"model": ["vae"], "config": {}}', r"'model' must be a model name"),
        ('{"model": "vae", "config": [1]}', r"'config' must be a JSON object"),
        ('{"model": "vae", "config": {}, "extra": 1}', r"unknown entries \['extra'\]"),
        ('{"model": "made", "config": {"mask_seed": 1e30}}', r"mask_seed = 1000000000000000019884624838656 must be <="),
    ],
)
def test_a_malformed_config_json_is_a_model_file_error(saved, text, match):
    _, path = saved
    (path / "config.json").write_text(text)
    _edit_json(
        path, "meta.json", lambda d: d.update(model=json.loads(text).get("model") if "[[" not in text else "vae")
    )
    with pytest.raises(ModelFileError, match=match):
        genlab.load(path)


def test_an_oversized_json_file_is_not_read(saved, monkeypatch):
    import genlab.io

    _, path = saved
    monkeypatch.setattr(genlab.io, "MAX_JSON_BYTES", 100)
    with pytest.raises(ModelFileError, match=r"config\.json is \d+ bytes, far more than a genlab config\.json"):
        genlab.load(path)


def test_non_finite_weights_are_refused_unless_allowed(saved):
    _, path = saved
    key = "decoder.blocks.0.0.weight"

    def poison(t):
        t[key][0, 0] = float("nan")
        t[key][1, 0] = float("inf")

    _edit_tensors(path, poison)
    with pytest.raises(ModelFileError, match=rf"tensor '{key}' holds 1 NaN and 1 infinite value.*allow_nonfinite=True"):
        genlab.load(path)
    model = genlab.load(path, allow_nonfinite=True)
    assert torch.isnan(model.state_dict()[key]).sum() == 1


def test_sample_refuses_a_model_with_nan_weights(saved, tmp_path, capsys):
    from genlab.cli.main import main

    _, path = saved
    _edit_tensors(path, lambda t: t["decoder.blocks.0.0.weight"].fill_(float("nan")))
    code = main(["sample", str(path), "-n", "4", "--out", str(tmp_path / "s.png")])
    assert code == 1 and "NaN" in capsys.readouterr().err
    assert not (tmp_path / "s.png").exists()


@pytest.mark.parametrize("name", ["config.json", "model.safetensors", "meta.json"])
def test_a_symlink_out_of_the_model_directory_is_refused(saved, tmp_path, name):
    _, path = saved
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (path / name).rename(outside / name)
    (path / name).symlink_to(outside / name)
    with pytest.raises(ModelFileError, match=rf"{name} is a symbolic link to .*elsewhere.*outside"):
        genlab.load(path)


def test_a_symlink_to_a_file_in_the_same_directory_is_followed(saved):
    m, path = saved
    (path / "model.safetensors").rename(path / "weights-v1.safetensors")
    (path / "model.safetensors").symlink_to("weights-v1.safetensors")
    assert torch.equal(next(genlab.load(path).parameters()), next(m.parameters()))
    (path / "model.safetensors").unlink()
    (path / "model.safetensors").symlink_to(path / "model.safetensors")  # a loop
    with pytest.raises(ModelFileError, match="cannot be resolved"):
        genlab.load(path)


def test_a_run_directory_whose_model_folder_links_outside_is_refused(saved, tmp_path):
    _, path = saved
    run = tmp_path / "run"
    run.mkdir()
    (run / "model").symlink_to(path, target_is_directory=True)
    with pytest.raises(ModelFileError, match=r"model is a symbolic link to .*outside .*run"):
        genlab.load(run)
    with pytest.raises(ModelFileError, match="outside"):
        read_meta(run)
    assert genlab.load(path) is not None  # the model directory itself may be reached through a link


@pytest.mark.skipif(not hasattr(__import__("os"), "mkfifo"), reason="needs POSIX named pipes")
def test_a_named_pipe_in_place_of_a_file_does_not_hang(saved):
    import os
    import threading

    _, path = saved
    (path / "config.json").unlink()
    os.mkfifo(path / "config.json")
    done = threading.Event()

    def unblock():  # if load blocks on the pipe (the bug), release it after 5 s so the test fails, not hangs
        if not done.wait(5):
            os.close(os.open(path / "config.json", os.O_WRONLY))

    threading.Thread(target=unblock, daemon=True).start()
    with pytest.raises(ModelFileError, match=r"config\.json is not a regular file"):
        genlab.load(path)
    done.set()
