"""The WaveNet objective: teacher-forced mu-law cross-entropy, fast cached sampling."""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import Any, ClassVar

import jax
import jax.numpy as jnp
import optax

from genjax.core.collectives import batch_random
from genjax.core.objective import Capabilities, SampleOption
from genjax.core.state import TrainState, apply_updates
from genjax.families.wavenet.mulaw import mu_law_decode, mu_law_encode, silence

Array = jax.Array
LN2 = math.log(2.0)

SAMPLE_OPTIONS = (
    SampleOption("length", int, "audio samples generated per clip (16,000: 1 s at 16 kHz)"),
    SampleOption("label", int, "the digit every clip says (label-conditioned WaveNet; -1: "
                               "clip i says i mod num_classes)"),
    SampleOption("temperature", float, "softmax temperature of the mu-law levels (> 0)"),
)


def next_level_loss(logits: Array, tokens: Array) -> Array:
    """Mean cross-entropy (nats) of ``tokens[:, 1:]`` under ``logits`` of ``tokens[:, :-1]``
    (``logits`` ``(B, T, L)``, ``tokens`` ``(B, T + 1)``)."""
    return jnp.mean(optax.softmax_cross_entropy_with_integer_labels(
        logits.astype(jnp.float32), tokens[:, 1:]))


@functools.partial(jax.jit, static_argnums=(0, 4))
def generate(model, params, labels: Array, key: Array, length: int,
             temperature: Array) -> Array:
    """``length`` mu-law levels per row from the silence level, by the fast-WaveNet
    algorithm: the model's ``decode`` (per-layer queues) in one compiled ``lax.scan``.

    Args:
      model: a :class:`genjax.families.wavenet.network.WaveNet`.
      params: its parameters.
      labels: int ``(B,)``: the rows' labels (ignored by an unconditional model).
      key: step ``t``'s level is drawn with ``fold_in(key, t)``.
      length: levels to draw (static).
      temperature: softmax temperature.

    Returns:
      int32 ``(B, length)``: ``x[1..length]`` after ``x[0]`` = silence.
    """
    batch = labels.shape[0]
    lab = labels if model.num_classes else None

    def step(carry, t):
        queues, token = carry
        logits, queues = model.apply({"params": params}, token, lab, queues, t,
                                     method="decode")
        nxt = jax.random.categorical(jax.random.fold_in(key, t), logits / temperature)
        return (queues, nxt.astype(jnp.int32)), nxt.astype(jnp.int32)

    first = jnp.full((batch,), silence(model.levels), jnp.int32)
    _, out = jax.lax.scan(step, (model.init_queues(batch), first), jnp.arange(length))
    return out.T


@dataclasses.dataclass(frozen=True)
class WaveNetObjective:
    """An autoregressive model of mu-law audio levels (van den Oord et al. 2016).

    Training is teacher-forced and parallel over time: each example is a random crop of
    ``segment + 1`` samples of a clip (the offset per example from the step's key,
    ``batch_random``), mu-law encoded; position ``t`` predicts level ``t + 1``. Held-out
    numbers (``eval_metrics``, ``test_metrics``) score every whole clip: levels ``2..T`` given
    the ones before, in bits per sample (``nats / ln 2``; 8 bits is a uniform guess).
    ``sample`` draws with :func:`generate` and decodes the levels to waveforms in [-1, 1].

    Attributes:
      model: the network (:class:`genjax.families.wavenet.network.WaveNet`).
      optimizer: optax transformation.
      segment: training crop, in samples (<= clip length - 1).
      sample_length: default samples per generated clip.
      temperature: default softmax temperature.
      data_key: the batch field of the waveforms.
    """

    model: Any
    optimizer: optax.GradientTransformation
    segment: int
    sample_length: int = 16_000
    temperature: float = 1.0
    data_key: str = "audio"
    capabilities: ClassVar[Capabilities] = Capabilities(
        test_metrics=True, sample_options=SAMPLE_OPTIONS)

    def __post_init__(self):
        if self.segment < 1:
            raise ValueError(f"data.segment must be >= 1 sample, got {self.segment}")
        self.check_options(self.sample_length, -1, self.temperature)

    # -- Objective protocol --------------------------------------------------------------
    def _audio(self, batch) -> Array:
        audio = jnp.asarray(batch[self.data_key], jnp.float32)
        if audio.ndim != 2:
            raise ValueError(f"WaveNet batches are (B, T) waveforms, got {audio.shape}")
        return audio

    def _labels(self, batch) -> Array | None:
        if not self.model.num_classes:
            return None
        return jnp.asarray(batch["label"], jnp.int32)

    def crop(self, audio: Array, key: Array) -> Array:
        """A random window of ``segment + 1`` samples of each clip (per-example offsets)."""
        length = audio.shape[1]
        if length < self.segment + 1:
            raise ValueError(f"data.segment {self.segment} needs clips of at least "
                             f"{self.segment + 1} samples, got {length}")
        starts = batch_random(
            lambda k, s: jax.random.randint(k, s, 0, length - self.segment), key,
            (audio.shape[0],))
        return jax.vmap(lambda a, s: jax.lax.dynamic_slice_in_dim(a, s, self.segment + 1)
                        )(audio, starts)

    def init(self, key: Array, batch) -> TrainState:
        """Parameters and optimizer state, shaped from an example batch."""
        audio = self._audio(batch)
        tokens = jnp.zeros((audio.shape[0], min(self.segment, audio.shape[1])), jnp.int32)
        params = self.model.init(key, tokens, self._labels(batch))["params"]
        return TrainState.create(params, self.optimizer.init(params))

    def loss(self, params, tokens: Array, labels: Array | None) -> Array:
        """Mean nats of ``tokens[:, 1:]`` given the levels before them."""
        logits = self.model.apply({"params": params}, tokens[:, :-1], labels)
        return next_level_loss(logits, tokens)

    def train_step(self, state: TrainState, batch, key: Array):
        """One optimizer step on the teacher-forced cross-entropy of random crops."""
        tokens = mu_law_encode(self.crop(self._audio(batch), key), self.model.levels)
        labels = self._labels(batch)
        loss, grads = jax.value_and_grad(self.loss)(state.params, tokens, labels)
        params, opt_state = apply_updates(self.optimizer, grads, state.opt_state, state.params)
        return (state.replace(params=params, opt_state=opt_state),
                {"loss": loss, "bits_per_sample": loss / LN2})

    def _whole(self, state: TrainState, batch) -> Array:
        tokens = mu_law_encode(self._audio(batch), self.model.levels)
        return self.loss(state.params, tokens, self._labels(batch))

    def eval_metrics(self, state: TrainState, batch, key: Array):
        """Nats and bits per sample over whole held-out clips."""
        loss = self._whole(state, batch)
        return {"loss": loss, "bits_per_sample": loss / LN2}

    def test_metrics(self, state: TrainState, batch, key: Array):
        """Batch means of nats and bits per sample over whole test clips (``genjax eval``)."""
        loss = self._whole(state, batch)
        return {"nats_per_sample": loss, "bits_per_sample": loss / LN2}

    # -- sampling ------------------------------------------------------------------------
    def check_options(self, length: int, label: int, temperature: float) -> None:
        """Raises ValueError naming the fix for an option the model cannot take."""
        if length < 1:
            raise ValueError(f"--length must be >= 1 sample, got {length}")
        if not temperature > 0:
            raise ValueError(f"--temperature must be > 0, got {temperature}")
        classes = self.model.num_classes
        if label != -1 and not classes:
            raise ValueError("--label needs a label-conditioned WaveNet (model.conditional); "
                             "this one is unconditional")
        if label != -1 and not 0 <= label < classes:
            raise ValueError(f"--label must be in 0..{classes - 1} (or -1: all digits in "
                             f"turn), got {label}")

    def sample(self, state: TrainState, key: Array, num: int, length: int | None = None,
               label: int | None = None, temperature: float | None = None) -> Array:
        """``num`` waveforms ``(num, length)`` in [-1, 1] (defaults: the objective's fields;
        ``label`` -1: clip ``i`` says ``i % num_classes``)."""
        length = self.sample_length if length is None else int(length)
        label = -1 if label is None else int(label)
        temperature = self.temperature if temperature is None else float(temperature)
        self.check_options(length, label, temperature)
        classes = max(self.model.num_classes, 1)
        labels = (jnp.arange(num, dtype=jnp.int32) % classes if label == -1
                  else jnp.full((num,), label, jnp.int32))
        levels = generate(self.model, state.params, labels, key, length,
                          jnp.float32(temperature))
        return mu_law_decode(levels, self.model.levels)
