"""Language models of byte-token text: a GPT-style Transformer and an LSTM / GRU.

* :mod:`.objective`: :class:`LanguageModel`, next-token cross-entropy, bits per byte,
  sampling with temperature / top-k / top-p;
* :mod:`.sampling`: the one compiled ``lax.scan`` that continues a prompt with a model's
  cached ``decode`` (the Transformer's keys and values, the RNN's states);
* :mod:`.rnn`: :class:`RNNLanguageModel` (``flax.linen`` cells under ``nn.RNN``); the
  Transformer is :class:`genjax.nn.transformer.Transformer`;
* :mod:`.config` and :mod:`.build`: the ``gpt`` and ``rnn`` config schemas and builders.
"""

from genjax.core.registry import lazy_package

__getattr__ = lazy_package(__name__)
