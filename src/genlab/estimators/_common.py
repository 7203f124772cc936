"""What the scikit-learn estimators share."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from sklearn.utils import check_random_state

from ..errors import ConfigError


def seed_from(random_state: Any) -> int:
    """An int seed from scikit-learn's ``random_state`` (an int is kept; ``None`` or a RandomState draws one)."""
    rs = random_state
    if isinstance(rs, numbers.Integral) and not isinstance(rs, bool):
        check_random_state(int(rs))  # the same range scikit-learn accepts
        return int(rs)
    if rs is None or isinstance(rs, np.random.RandomState):
        return int(check_random_state(rs).randint(np.iinfo(np.int32).max))
    raise ConfigError(f"random_state must be None, an int or a numpy RandomState, got {rs!r}")
