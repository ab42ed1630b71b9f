"""WaveNet: an autoregressive model of mu-law audio (van den Oord et al. 2016).

* :mod:`.network`: causal dilated convolutions (kernel 2), gated tanh * sigmoid units,
  residual and skip paths, a 256-way softmax head, optional global label conditioning; its
  ``decode`` is one step of the fast-WaveNet algorithm (per-layer queues);
* :mod:`.objective`: teacher-forced parallel training on random crops, bits per sample over
  whole held-out clips, sampling in one compiled ``lax.scan`` over time;
* :mod:`.mulaw`: mu-law companding and 256-level quantisation;
* :mod:`.config` and :mod:`.build`: the config schema and the builder.
"""

from genjax.core.registry import Family
from genjax.families.wavenet.build import build
from genjax.families.wavenet.config import smallest_config
from genjax.families.wavenet.objective import WaveNetObjective

FAMILIES = (
    Family(
        name="wavenet", build=build,
        summary="WaveNet over mu-law audio levels (dilated causal convolutions, gated units, "
                "optional label conditioning); fast-WaveNet cached sampling in one scan",
        modalities=("audio",), precisions=("fp32", "bf16"), objectives=(WaveNetObjective,),
        smallest=smallest_config),)

__all__ = ["FAMILIES", "WaveNetObjective"]
