"""The classifier family: a digit classifier, the domain feature network of ``genjax eval``."""

from genjax.core.registry import lazy_package

__getattr__ = lazy_package(__name__)
