"""Consistency models (Song et al., 2023) by improved consistency training (Song & Dhariwal,
2023): 1- and few-step generation.

* :mod:`.training`: the curriculum, discrete log-normal levels, pseudo-Huber metric.
* :mod:`.objective`: :class:`ConsistencyModel`, the Objective, and
  :func:`consistency_sample` (multistep sampling).
* :mod:`.config`: the ``cm`` config schema; :mod:`.build`: config -> objective.

The network preconditioning is EDM's (:mod:`genjax.nn.preconditioning`, shared with the
``edm`` family) with the ``sigma_min`` boundary condition. Consistency distillation from a
trained EDM run is not implemented.
"""

from genjax.core.registry import lazy_package

__getattr__ = lazy_package(__name__)
