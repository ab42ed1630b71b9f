"""The ``lm`` package's registration (``FAMILIES``) and re-exports, imported on first use
by the package (``genjax.core.registry.lazy_package``), so that its light submodules load
without them."""

from genjax.core.registry import Family
from genjax.families.lm.build import build, build_rnn
from genjax.families.lm.config import smallest_config, smallest_rnn_config
from genjax.families.lm.objective import LanguageModel, next_token_loss

FAMILIES = (
    Family(
        name="gpt", build=build,
        summary="Decoder-only Transformer language model (pre-LayerNorm, causal attention, "
                "tied embeddings) over bytes; KV-cache sampling with temperature/top-k/top-p",
        modalities=("text",), precisions=("fp32", "bf16"), objectives=(LanguageModel,),
        smallest=smallest_config),
    Family(
        name="rnn", build=build_rnn,
        summary="LSTM or GRU language model over bytes (model.cell); sampling carries the "
                "recurrent state in one compiled scan",
        modalities=("text",), precisions=("fp32", "bf16"), objectives=(LanguageModel,),
        smallest=smallest_rnn_config),)

__all__ = ["FAMILIES", "LanguageModel", "next_token_loss"]
