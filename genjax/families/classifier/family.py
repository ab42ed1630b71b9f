"""The ``classifier`` package's registration (``FAMILIES``) and re-exports, imported on first use
by the package (``genjax.core.registry.lazy_package``), so that its light submodules load
without them."""

from genjax.core.registry import Family
from genjax.families.classifier.build import build
from genjax.families.classifier.config import smallest_config
from genjax.families.classifier.objective import Classifier

FAMILIES = (Family(
    name="classifier", build=build,
    summary="softmax classifier of digit images or spoken digits (the domain feature network "
            "of genjax eval)",
    modalities=("image", "audio"), precisions=("fp32", "bf16"), objectives=(Classifier,),
    smallest=smallest_config),)
