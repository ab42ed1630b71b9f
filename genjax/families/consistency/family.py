"""The ``consistency`` package's registration (``FAMILIES``) and re-exports, imported on first use
by the package (``genjax.core.registry.lazy_package``), so that its light submodules load
without them."""

from genjax.core.registry import Family
from genjax.families.consistency.build import build
from genjax.families.consistency.config import smallest_config
from genjax.families.consistency.objective import ConsistencyModel, consistency_sample

FAMILIES = (Family(
    name="cm", build=build,
    summary="Consistency models by improved consistency training (pseudo-Huber, log-normal "
            "levels, discretisation curriculum): 1- and 2-step sampling, UNet or MLP",
    modalities=("image", "points"), objectives=(ConsistencyModel,), smallest=smallest_config),)

__all__ = ["FAMILIES", "ConsistencyModel", "consistency_sample"]
