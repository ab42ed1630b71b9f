"""The ``fast_style`` package's registration (``FAMILIES``) and re-exports, imported on first
use by the package (``genjax.core.registry.lazy_package``)."""

from genjax.core.registry import Family
from genjax.families.fast_style.build import build
from genjax.families.fast_style.config import fast_style_base, smallest_config
from genjax.families.fast_style.network import TransformerNet
from genjax.families.fast_style.objective import FastStyle

FAMILIES = (Family(
    name="fast_style", build=build,
    summary="feed-forward style transfer (Johnson et al.): a transformer network trained "
            "with the VGG-19 perceptual loss of `genjax style`",
    modalities=("image",), objectives=(FastStyle,), smallest=smallest_config,
    defaults=fast_style_base),)

__all__ = ["FAMILIES", "FastStyle", "TransformerNet"]
