"""The ``wavenet`` package's registration (``FAMILIES``) and re-exports, imported on first use
by the package (``genjax.core.registry.lazy_package``), so that its light submodules load
without them."""

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
