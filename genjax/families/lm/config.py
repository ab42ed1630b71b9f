"""The ``gpt`` and ``rnn`` config schemas: the keys and defaults the language-model configs
share."""

import ml_collections

from genjax.config import base_config


def lm_base(family: str) -> ml_collections.ConfigDict:
    """Language-model defaults: the ``kjv`` corpus in windows of ``data.context`` tokens
    (bytes, or ``data.tokenizer=bpe`` with ``data.vocab_size`` tokens),
    AdamW with warmup and cosine decay, gradient clipping, default sample options.

    ``model`` is the network's section: for ``gpt`` ``features``, ``num_layers``,
    ``num_heads``, ``mlp_ratio``, ``dropout``; for ``rnn`` ``cell`` (``lstm`` / ``gru``),
    ``features``, ``num_layers``, ``dropout``.
    """
    config = base_config()
    config.family = family
    config.data.name = "kjv"
    config.data.context = 256  # tokens per example: the model's longest sequence
    config.data.tokenizer = "bytes"  # "bytes" (256) or "bpe": a byte-level BPE of the train split
    config.data.vocab_size = 0  # the BPE's tokens (e.g. 1024); 0 with bytes
    config.train.update({"batch_size": 32, "num_samples": 4, "eval_every": 0})
    config.optim = ml_collections.ConfigDict({
        "lr": 1e-3, "b1": 0.9, "b2": 0.99, "weight_decay": 0.1, "warmup_steps": 100,
        "decay_steps": 0,  # 0: train.steps at the first build (fix it to extend a run)
        "min_lr_ratio": 0.1, "grad_clip": 1.0})
    config.sample = ml_collections.ConfigDict({  # defaults of `genjax sample` and the loop
        "prompt": "\n", "length": 200, "temperature": 1.0, "top_k": 0, "top_p": 1.0})
    return config


def gpt_base() -> ml_collections.ConfigDict:
    """The ``gpt`` family's defaults: a 4-layer, 128-wide Transformer."""
    config = lm_base("gpt")
    config.model = ml_collections.ConfigDict({
        "features": 128, "num_layers": 4, "num_heads": 4, "mlp_ratio": 4, "dropout": 0.0})
    return config


def rnn_base() -> ml_collections.ConfigDict:
    """The ``rnn`` family's defaults: a 2-layer, 256-wide LSTM."""
    config = lm_base("rnn")
    config.model = ml_collections.ConfigDict({
        "cell": "lstm", "features": 256, "num_layers": 2, "dropout": 0.0})
    return config


def _tiny(config: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
    config.data.name = "pydoc_topics"
    config.data.context = 16
    config.optim.update({"warmup_steps": 0, "decay_steps": 10})
    config.sample.length = 8
    config.train.update({"batch_size": 8, "num_samples": 2})
    return config


def smallest_config(runs=None) -> ml_collections.ConfigDict:
    """The ``gpt`` family's smallest config (the registry's contract test): 1 layer, 16 wide,
    windows of 16 bytes of ``pydoc_topics``."""
    config = gpt_base()
    config.model.update({"features": 16, "num_layers": 1, "num_heads": 2, "mlp_ratio": 2})
    return _tiny(config)


def smallest_rnn_config(runs=None) -> ml_collections.ConfigDict:
    """The ``rnn`` family's smallest config: one 16-wide GRU layer on ``pydoc_topics``."""
    config = rnn_base()
    config.model.update({"cell": "gru", "features": 16, "num_layers": 1})
    return _tiny(config)
