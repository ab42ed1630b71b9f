"""Language models of byte-token text: a GPT-style Transformer and an LSTM / GRU.

* :mod:`.objective`: :class:`LanguageModel`, next-token cross-entropy, bits per byte,
  sampling with temperature / top-k / top-p;
* :mod:`.sampling`: the one compiled ``lax.scan`` that continues a prompt with a model's
  cached ``decode`` (the Transformer's keys and values, the RNN's states);
* :mod:`.rnn`: :class:`RNNLanguageModel` (``flax.linen`` cells under ``nn.RNN``); the
  Transformer is :class:`genjax.nn.transformer.Transformer`;
* :mod:`.config` and :mod:`.build`: the ``gpt`` and ``rnn`` config schemas and builders.
"""

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
