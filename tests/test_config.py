from dataclasses import dataclass
from typing import Literal

import pytest

from genlab.config import BaseConfig, param, parse_value
from genlab.errors import ConfigError


@dataclass(frozen=True)
class ToyConfig(BaseConfig):
    width: int = param(4, ge=1)
    rate: float = param(0.5, gt=0, le=1)
    kind: Literal["a", "b"] = "a"
    dims: tuple[int, ...] = param((3, 2), ge=1)
    pair: tuple[int, int] = (1, 2)
    flag: bool = False
    maybe: int | None = None

    def validate(self) -> None:
        if self.kind == "b" and self.width < 2:
            raise ConfigError("kind 'b' needs width >= 2")


def test_defaults_and_roundtrip_through_json():
    c = ToyConfig(width=7, dims=[5, 6], maybe=3)
    assert c.dims == (5, 6)
    again = ToyConfig.from_json(c.to_json())
    assert again == c
    assert ToyConfig.from_dict(c.to_dict()) == c


def test_unknown_key_is_an_error_with_a_suggestion():
    with pytest.raises(ConfigError, match=r"no option 'widht'; did you mean 'width'"):
        ToyConfig.from_dict({"widht": 3})


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"width": 0}, r"width = 0 must be >= 1"),
        ({"width": 2.5}, r"width must be an integer"),
        ({"width": "3"}, r"width must be an integer"),
        ({"rate": 0.0}, r"rate = 0.0 must be > 0"),
        ({"rate": 1.5}, r"must be <= 1"),
        ({"kind": "c"}, r"'c' is not one of 'a', 'b'"),
        ({"dims": (3, 0)}, r"dims = \(3, 0\) must be >= 1"),
        ({"pair": (1, 2, 3)}, r"pair needs 2 values"),
        ({"flag": 1}, r"flag must be true or false"),
        ({"maybe": "x"}, r"maybe = 'x' is not a valid int \| None"),
        ({"kind": "b", "width": 1}, r"kind 'b' needs width >= 2"),
    ],
)
def test_bad_values_name_the_field(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        ToyConfig(**kwargs)


def test_literal_typo_suggests_the_option():
    with pytest.raises(ConfigError, match="did you mean 'b'"):
        ToyConfig(kind="B")


def test_with_overrides_parses_command_line_values():
    c = ToyConfig().with_overrides(["width=9", "rate=0.25", "kind=b", "dims=8,4", "flag=true", "maybe=none"])
    assert (c.width, c.rate, c.kind, c.dims, c.flag, c.maybe) == (9, 0.25, "b", (8, 4), True, None)
    assert ToyConfig().with_overrides(["dims=[16]"]).dims == (16,)
    with pytest.raises(ConfigError, match="expects key=value"):
        ToyConfig().with_overrides(["width"])
    with pytest.raises(ConfigError, match="no option 'nope'"):
        ToyConfig().with_overrides(["nope=1"])


def test_from_json_reports_bad_files(tmp_path):
    bad = tmp_path / "c.json"
    bad.write_text("{not json")
    with pytest.raises(ConfigError, match="not valid JSON"):
        ToyConfig.from_json(bad)
    with pytest.raises(ConfigError, match="cannot read config file"):
        ToyConfig.from_json(tmp_path / "missing.json")


def test_parse_value():
    assert parse_value("3") == 3
    assert parse_value("1e-3") == 1e-3
    assert parse_value("[1, 2]") == (1, 2)
    assert parse_value("relu") == "relu"
    assert parse_value("False") is False


def test_configs_are_immutable_and_reject_non_finite_numbers():
    import dataclasses

    c = ToyConfig()
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.width = 3
    assert c.replace(width=3).width == 3 and c.width == 4
    with pytest.raises(ConfigError, match="finite"):
        ToyConfig(rate=float("nan"))
    with pytest.raises(ConfigError, match="finite"):
        ToyConfig().with_overrides(["rate=Infinity"])


@dataclass(frozen=True)
class NamedConfig(BaseConfig):
    label: str = "x"
    mode: Literal["1", "2"] | None = None


def test_string_fields_keep_values_that_look_like_numbers():
    c = NamedConfig().with_overrides(["label=123", "mode=2"])
    assert c.label == "123" and c.mode == "2"
    assert NamedConfig().with_overrides(["label=true"]).label == "true"
    assert NamedConfig(mode="1").with_overrides(["mode=none"]).mode is None


def test_numpy_numbers_are_accepted():
    import numpy as np

    c = ToyConfig(width=np.int64(3), rate=np.float32(0.25), dims=(np.int64(2),))
    assert (c.width, c.rate, c.dims) == (3, 0.25, (2,)) and type(c.width) is int
    with pytest.raises(ConfigError, match="integer"):
        ToyConfig(width=np.float64(2.5))


# --- size bounds: a config can never ask for an absurd network ---------------------------------------
SCHEDULE_FIELDS = {"pretrain_epochs", "kl_warmup_steps", "instance_noise_steps"}  # lengths of time, not sizes


def _registered_configs():
    from genlab.registry import list_models

    return sorted({e.config_cls for e in list_models()}, key=lambda c: c.__name__)


@pytest.mark.parametrize("cls", _registered_configs(), ids=lambda c: c.__name__)
def test_every_size_field_of_every_model_config_has_an_upper_bound(cls):
    import dataclasses

    from genlab.config import _hints

    hints = _hints(cls)
    for f in dataclasses.fields(cls):
        if f.name in SCHEDULE_FIELDS or hints[f.name] not in (int, tuple[int, ...]):
            continue
        meta = f.metadata
        assert meta.get("le") is not None or meta.get("max_product") is not None, f"{cls.__name__}.{f.name}"
        if hints[f.name] == tuple[int, ...]:
            assert meta.get("max_len") is not None, f"{cls.__name__}.{f.name} has no bound on its length"


@pytest.mark.parametrize(
    ("model", "changes", "message"),
    [
        ("vae", {"hidden_dims": (10**8,)}, r"VAEConfig\.hidden_dims = \(100000000,\) must be <= 65536"),
        ("vae", {"latent_dim": 10**8}, r"latent_dim = 100000000 must be <= 65536"),
        ("vae", {"hidden_dims": (8,) * 10_000}, r"hidden_dims has 10000 entries; at most 256"),
        ("vae", {"data_shape": (1, 10**5, 10**5)}, r"data_shape = \(1, 100000, 100000\) holds 10000000000 values"),
        ("gan", {"hidden_dims": (64, 10**9)}, r"hidden_dims = \(64, 1000000000\) must be <= 65536"),
        ("rbm", {"n_chains": 10**9}, r"n_chains = 1000000000 must be <= 65536"),
        ("transformer_ar", {"n_layers": 10**6}, r"n_layers = 1000000 must be <= 256"),
        ("deep_ensemble", {"n_members": 10**6}, r"n_members = 1000000 must be <= 1024"),
        ("made", {"mask_seed": 2**62}, r"mask_seed = 4611686018427387904 must be <= 4294967295"),
        ("realnvp", {"channels": 10**7}, r"channels = 10000000 must be <= 65536"),
    ],
)
def test_absurd_sizes_are_config_errors_naming_the_field(model, changes, message):
    from genlab.registry import get_model

    entry = get_model(model)
    with pytest.raises(ConfigError, match=message):
        entry.default_config(**changes)
    with pytest.raises(ConfigError, match=message):  # a config.json goes through from_dict
        entry.config_cls.from_dict({**entry.default_config().to_dict(), **changes})


def test_size_bounds_apply_to_command_line_overrides():
    from genlab.models.autoencoders.vae import VAEConfig

    with pytest.raises(ConfigError, match=r"hidden_dims = \(100000000,\) must be <= 65536"):
        VAEConfig().with_overrides(["hidden_dims=100000000"])
    with pytest.raises(ConfigError, match=r"data_shape = \(1, 100000, 100000\) holds"):
        VAEConfig().with_overrides(["data_shape=1,100000,100000"])
    long = "[" + ",".join(["4"] * 300) + "]"
    with pytest.raises(ConfigError, match="hidden_dims has 300 entries"):
        VAEConfig().with_overrides([f"hidden_dims={long}"])


def test_cli_train_set_with_an_absurd_width_is_a_one_line_error(tmp_path, capsys):
    from genlab.cli.main import main

    code = main(["train", "vae", "--data", "digits", "--out", str(tmp_path / "r"), "--set", "hidden_dims=100000000"])
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert "hidden_dims = (100000000,) must be <= 65536" in err
    assert not (tmp_path / "r").exists()


def test_long_tuples_are_shortened_in_messages():
    with pytest.raises(ConfigError) as info:
        ToyConfig(dims=(0,) * 100_000)
    assert len(str(info.value)) < 200


@pytest.mark.parametrize("value", [float("inf"), float("-inf"), float("nan")])
def test_non_finite_numbers_for_integer_fields_are_config_errors(value):
    # JSON as Python reads it accepts Infinity and NaN: int(inf) used to raise OverflowError
    with pytest.raises(ConfigError, match="width must be an integer"):
        ToyConfig.from_dict({"width": value})
    with pytest.raises(ConfigError, match="width must be an integer"):
        ToyConfig.from_json('{"width": Infinity}')


def test_deeply_nested_json_is_a_config_error():
    with pytest.raises(ConfigError, match="nested too deeply"):
        ToyConfig.from_json("{" + '"dims": ' + "[" * 100_000 + "]" * 100_000 + "}")
