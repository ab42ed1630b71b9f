"""The language-model objective: next-token cross-entropy, bits per byte, cached sampling."""

from __future__ import annotations

import dataclasses
import math
from typing import Any, ClassVar

import jax
import jax.numpy as jnp
import numpy as np
import optax

from genjax.core.collectives import device_key
from genjax.core.objective import Capabilities, SampleOption
from genjax.core.state import TrainState, apply_updates
from genjax.data.tokenization import BYTES, Tokenizer
from genjax.nn.decoding import generate, padded_length

Array = jax.Array
LN2 = math.log(2.0)

SAMPLE_OPTIONS = (
    SampleOption("prompt", str, "text the samples continue (language models; default: a "
                                "newline)"),
    SampleOption("length", int, "tokens generated after the prompt (bytes, with the byte "
                                "tokenizer); prompt + length <= data.context (no sliding "
                                "window)"),
    SampleOption("temperature", float, "softmax temperature (> 0; default 1)"),
    SampleOption("top_k", int, "sample among the k most likely tokens (0: all)"),
    SampleOption("top_p", float, "nucleus sampling: the most likely tokens holding this "
                                 "probability, in (0, 1] (1: all)"),
)


def next_token_loss(logits: Array, tokens: Array) -> Array:
    """Mean cross-entropy in nats of ``tokens[:, 1:]`` under ``logits`` of ``tokens[:, :-1]``.

    Args:
      logits: float ``(B, T, V)``, position ``t`` predicting token ``t + 1``.
      tokens: int ``(B, T + 1)``.

    Returns:
      The float32 scalar mean over the batch and positions.
    """
    return jnp.mean(optax.softmax_cross_entropy_with_integer_labels(
        logits.astype(jnp.float32), tokens[:, 1:]))


@dataclasses.dataclass(frozen=True)
class LanguageModel:
    """An autoregressive model of text tokens trained by next-token cross-entropy.

    Batches hold windows ``(B, context + 1)`` of tokens (``genjax.modalities.text``); the
    model sees the first ``context`` and predicts each next one. Bits per byte divide the
    nats of the predicted tokens by ``ln 2`` times the bytes those tokens stand for
    (``tokenizer.token_bytes``; 1 per token with the byte tokenizer), so runs with different
    tokenizers compare. ``test_metrics`` (``genjax eval``, over every test token once)
    returns the mean nats and bytes per token; ``genjax eval`` reports their ratio as
    ``test_bits_per_byte`` (whole-split sums, every window predicting ``context`` tokens)
    and ``exp(nats per token)`` as ``test_perplexity`` (per token: per byte with bytes).

    ``sample`` continues a prompt with the model's cached ``decode`` in one compiled
    ``lax.scan`` (:func:`genjax.nn.decoding.generate`), padded to a power of two so
    that prompts of any length reuse the program; it returns the prompt and its
    continuation as BYTES, ``(num, (len(prompt tokens) + length) * w)`` int32 where ``w``
    is the tokenizer's longest token in bytes and ``-1`` pads the shorter ones (``w = 1``:
    the tokens themselves, with the byte tokenizer).

    Attributes:
      model: a module ``model(tokens, train) -> logits`` with ``init_cache`` and ``decode``
        (:class:`genjax.nn.transformer.Transformer`,
        :class:`genjax.families.lm.rnn.RNNLanguageModel`).
      optimizer: optax transformation.
      context: tokens per training example (the model's longest sequence).
      prompt: default prompt of ``sample`` (the training loop's samples).
      sample_length: default tokens generated after the prompt.
      temperature: default softmax temperature.
      top_k: default top-k (0: off).
      top_p: default nucleus mass (1: off).
      data_key: the batch field of the token windows.
      tokenizer: the run's tokenizer (prompts in, bytes out, bits per byte).
    """

    model: Any
    optimizer: optax.GradientTransformation
    context: int
    prompt: str = "\n"
    sample_length: int = 256
    temperature: float = 1.0
    top_k: int = 0
    top_p: float = 1.0
    data_key: str = "text"
    tokenizer: Tokenizer = BYTES
    capabilities: ClassVar[Capabilities] = Capabilities(
        test_metrics=True, sample_options=SAMPLE_OPTIONS,
        exp_metrics=(("nats_per_token", "perplexity"),),
        ratio_metrics=(("bits_per_byte", "nats_per_token", "bytes_per_token", 1 / LN2),))

    def __post_init__(self):
        if self.context < 2:
            raise ValueError(f"data.context must be >= 2, got {self.context}")
        self.check_options(self.prompt, self.sample_length, self.temperature, self.top_k,
                           self.top_p)

    # -- Objective protocol --------------------------------------------------------------
    def _tokens(self, batch) -> Array:
        tokens = jnp.asarray(batch[self.data_key], jnp.int32)
        if tokens.ndim != 2 or tokens.shape[1] != self.context + 1:
            raise ValueError(f"language-model batches are ({self.context + 1},) token windows "
                             f"(data.context + 1), got shape {tokens.shape}")
        return tokens

    def init(self, key: Array, batch) -> TrainState:
        """Parameters and optimizer state, shaped from an example batch."""
        tokens = self._tokens(batch)
        kp, kd = jax.random.split(key)
        params = self.model.init({"params": kp, "dropout": kd}, tokens[:, :-1],
                                 train=False)["params"]
        return TrainState.create(params, self.optimizer.init(params))

    def _loss(self, params, tokens: Array, train: bool, key: Array | None = None) -> Array:
        rngs = {"dropout": key} if train else {}
        logits = self.model.apply({"params": params}, tokens[:, :-1], train=train, rngs=rngs)
        return next_token_loss(logits, tokens)

    def _bytes_per_token(self, tokens: Array) -> Array:
        """Mean bytes the target tokens ``tokens[:, 1:]`` stand for."""
        sizes = jnp.asarray(self.tokenizer.token_bytes(), jnp.float32)
        return jnp.mean(sizes[tokens[:, 1:]])

    def _metrics(self, loss: Array, tokens: Array) -> dict[str, Array]:
        return {"loss": loss, "bits_per_byte": loss / (LN2 * self._bytes_per_token(tokens))}

    def train_step(self, state: TrainState, batch, key: Array):
        """One optimizer step on the next-token cross-entropy (dropout from ``key``)."""
        tokens = self._tokens(batch)
        k = device_key(key)  # dropout masks differ per device
        loss, grads = jax.value_and_grad(lambda p: self._loss(p, tokens, True, k))(state.params)
        params, opt_state = apply_updates(self.optimizer, grads, state.opt_state, state.params)
        return state.replace(params=params, opt_state=opt_state), self._metrics(loss, tokens)

    def eval_metrics(self, state: TrainState, batch, key: Array):
        """Held-out next-token loss (nats per token) and bits per byte, no dropout."""
        tokens = self._tokens(batch)
        return self._metrics(self._loss(state.params, tokens, False), tokens)

    def test_metrics(self, state: TrainState, batch, key: Array):
        """Batch means of nats and bytes per predicted token (``genjax eval`` divides the
        whole split's means for bits per byte)."""
        tokens = self._tokens(batch)
        return {"nats_per_token": self._loss(state.params, tokens, False),
                "bytes_per_token": self._bytes_per_token(tokens)}

    # -- sampling ------------------------------------------------------------------------
    def check_options(self, prompt: str, length: int, temperature: float, top_k: int,
                      top_p: float) -> np.ndarray:
        """The prompt's tokens, once every option is checked.

        Raises:
          ValueError: an option the model cannot take, naming the fix.
        """
        if not isinstance(prompt, str) or not prompt:
            raise ValueError("--prompt is empty; give at least one character (the default "
                             "is a newline)")
        tokens = self.tokenizer.encode(prompt)
        unit = "bytes" if self.tokenizer.kind == "bytes" else f"{self.tokenizer.kind} tokens"
        if length < 1:
            raise ValueError(f"--length must be >= 1, got {length}")
        if len(tokens) >= self.context:
            raise ValueError(f"the prompt is {len(tokens)} {unit}, but the model's context is "
                             f"{self.context} tokens (no sliding window); give a prompt of at "
                             f"most {self.context - 1} {unit}")
        if len(tokens) + length > self.context:
            raise ValueError(
                f"the prompt ({len(tokens)} {unit}) + --length {length} exceed the model's "
                f"context of {self.context} tokens (no sliding window); use --length "
                f"{max(self.context - len(tokens), 0)} or less, or a shorter prompt")
        if not temperature > 0:
            raise ValueError(f"--temperature must be > 0, got {temperature}")
        if top_k < 0:
            raise ValueError(f"--top-k must be >= 0 (0: off), got {top_k}")
        if not 0 < top_p <= 1:
            raise ValueError(f"--top-p must be in (0, 1], got {top_p}")
        return tokens

    def sample(self, state: TrainState, key: Array, num: int, prompt: str | None = None,
               length: int | None = None, temperature: float | None = None,
               top_k: int | None = None, top_p: float | None = None) -> Array:
        """``num`` continuations of ``prompt`` (defaults: the objective's fields).

        Returns:
          int32 bytes ``(num, (prompt tokens + length) * w)``: the prompt, then the samples
          (see the class docstring; ``w = 1`` with the byte tokenizer).
        """
        prompt = self.prompt if prompt is None else prompt
        length = self.sample_length if length is None else int(length)
        temperature = self.temperature if temperature is None else float(temperature)
        top_k = self.top_k if top_k is None else int(top_k)
        top_p = self.top_p if top_p is None else float(top_p)
        tokens = self.check_options(prompt, length, temperature, top_k, top_p)
        total = len(tokens) + length
        n = padded_length(total, self.context)
        padded = np.zeros((num, n), np.int32)
        padded[:, :len(tokens)] = tokens
        out = generate(self.model, state.params, jnp.asarray(padded),
                       jnp.int32(len(tokens)), key, jnp.float32(temperature),
                       jnp.int32(top_k), jnp.float32(top_p))
        table = jnp.asarray(self.tokenizer.byte_table())  # (vocab, w), -1 padded
        return table[out[:, :total]].reshape(num, -1)


