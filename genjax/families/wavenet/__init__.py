"""WaveNet: an autoregressive model of mu-law audio (van den Oord et al. 2016).

* :mod:`.network`: causal dilated convolutions (kernel 2), gated tanh * sigmoid units,
  residual and skip paths, a 256-way softmax head, optional global label conditioning; its
  ``decode`` is one step of the fast-WaveNet algorithm (per-layer queues);
* :mod:`.objective`: teacher-forced parallel training on random crops, bits per sample over
  whole held-out clips, sampling in one compiled ``lax.scan`` over time;
* :mod:`.mulaw`: mu-law companding and 256-level quantisation;
* :mod:`.config` and :mod:`.build`: the config schema and the builder.
"""

from genjax.core.registry import lazy_package

__getattr__ = lazy_package(__name__)
