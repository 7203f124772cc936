"""The single place genlab's version is defined (read by pyproject.toml and meta.json)."""

__version__ = "0.1.0"
