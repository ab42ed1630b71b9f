"""genjax: generative models in JAX.

The Python API (imported on first use, so ``import genjax`` stays fast):

* ``genjax.train(config_or_name, workdir, **overrides)`` trains as ``genjax train`` does and
  returns a :class:`genjax.api.Model`;
* ``genjax.load(workdir)`` loads a run folder's latest checkpoint (or a file written by
  ``genjax export``, which needs no dataset) as a ``Model`` with
  ``.sample(num, seed, **options)`` (and ``.reconstruct`` for autoencoders, ``.save``).

See :mod:`genjax.api`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from genjax._version import __version__

__all__ = ["Model", "__version__", "load", "train"]

if TYPE_CHECKING:
    from genjax.api import Model, load, train


def __getattr__(name: str) -> Any:
    if name in ("train", "load", "Model"):
        from genjax import api

        value = globals()[name] = getattr(api, name)  # PEP 562: looked up once
        return value
    raise AttributeError(f"module 'genjax' has no attribute {name!r}")
