"""The package version, in a module of its own: lower layers read it without importing the
``genjax`` package's API (see ``genjax/__init__.py``)."""

__version__ = "0.1.0"
