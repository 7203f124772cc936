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
