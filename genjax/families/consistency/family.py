"""The ``consistency`` package's registration (``FAMILIES``) and re-exports, imported on first use
by the package (``genjax.core.registry.lazy_package``), so that its light submodules load
without them."""

from genjax.core.registry import Family
from genjax.families.consistency.build import build, build_cd
from genjax.families.consistency.config import smallest_cd_config, smallest_config
from genjax.families.consistency.objective import (
    ConsistencyDistillation,
    ConsistencyModel,
    consistency_sample,
)

FAMILIES = (
    Family(
    name="cm", build=build,
    summary="Consistency models by improved consistency training (pseudo-Huber, log-normal "
            "levels, discretisation curriculum): 1- and 2-step sampling, UNet or MLP",
    modalities=("image", "points"), objectives=(ConsistencyModel,), smallest=smallest_config),
    Family(
    name="cd", build=build_cd,
    summary="Consistency distillation of a trained EDM run (its Heun ODE step as the "
            "target's input): 1- and 2-step sampling",
    modalities=("image", "points"), objectives=(ConsistencyDistillation,),
    smallest=smallest_cd_config, needs=("edm",)),)

__all__ = ["FAMILIES", "ConsistencyDistillation", "ConsistencyModel", "consistency_sample"]
