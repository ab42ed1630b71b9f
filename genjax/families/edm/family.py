"""The ``edm`` package's registration (``FAMILIES``) and re-exports, imported on first use
by the package (``genjax.core.registry.lazy_package``), so that its light submodules load
without them."""

from genjax.core.registry import Family
from genjax.families.edm.build import build
from genjax.families.edm.config import smallest_config
from genjax.families.edm.objective import EDM
from genjax.families.edm.precond import edm_loss, loss_weight, preconditioning
from genjax.families.edm.samplers import SOLVERS, edm_sample, karras_sigmas

FAMILIES = (Family(
    name="edm", build=build,
    summary="EDM (Karras et al. 2022): c_skip/c_out/c_in/c_noise preconditioning, log-normal "
            "sigmas, lambda(sigma) weighting, rho=7 schedule, Heun/Euler with churn, UNet or "
            "MLP, classifier-free guidance",
    modalities=("image", "points"), objectives=(EDM,), smallest=smallest_config),)

__all__ = ["EDM", "FAMILIES", "SOLVERS", "edm_loss", "edm_sample", "karras_sigmas",
           "loss_weight", "preconditioning"]
