"""From a ``gpt`` / ``rnn`` config to the LanguageModel objective."""

from __future__ import annotations

import ml_collections

from genjax.config import ConfigError
from genjax.data.tfds import DatasetSpec
from genjax.families._build import adamw_cosine


def _objective(config: ml_collections.ConfigDict, model, family: str, context):
    from genjax.families.lm.objective import LanguageModel

    s = config.sample
    optimizer = adamw_cosine(config.optim, config.train.steps)
    try:
        return LanguageModel(
            model=model, optimizer=optimizer,
            context=config.data.context, prompt=s.prompt, sample_length=s.length,
            temperature=s.temperature, top_k=s.top_k, top_p=s.top_p, data_key="text",
            tokenizer=context.modality.tokenizer)
    except ValueError as e:
        raise ConfigError(f"{family} config: {e} (sample.* keys)") from e


def _context(config: ml_collections.ConfigDict) -> int:
    context = config.data.get("context", 0)
    if context < 2:
        raise ConfigError(f"data.context must be >= 2 tokens, got {context}")
    return context


def build(config: ml_collections.ConfigDict, spec: DatasetSpec, context):
    """A decoder-only Transformer over the run's tokens (``genjax.nn.transformer``)."""
    from genjax.nn.transformer import Transformer

    m = config.model
    if m.features % m.num_heads:
        raise ConfigError(f"model.features ({m.features}) must be divisible by "
                          f"model.num_heads ({m.num_heads})")
    model = Transformer(vocab_size=context.modality.tokenizer.vocab_size,
                        max_len=_context(config), features=m.features,
                        num_layers=m.num_layers, num_heads=m.num_heads, mlp_ratio=m.mlp_ratio,
                        dropout=m.dropout, dtype=context.precision.compute_dtype)
    return _objective(config, model, "gpt", context)


def build_rnn(config: ml_collections.ConfigDict, spec: DatasetSpec, context):
    """An LSTM or GRU language model over the run's tokens."""
    from genjax.families.lm.rnn import CELLS, RNNLanguageModel

    m = config.model
    if m.cell not in CELLS:
        raise ConfigError(f"model.cell must be one of {', '.join(CELLS)}, got {m.cell!r}")
    _context(config)
    model = RNNLanguageModel(vocab_size=context.modality.tokenizer.vocab_size, features=m.features,
                             num_layers=m.num_layers, cell=m.cell, dropout=m.dropout,
                             dtype=context.precision.compute_dtype)
    return _objective(config, model, "rnn", context)
