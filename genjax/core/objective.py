"""The Objective protocol: the one seam every model family plugs into.

A family is an objective plus its modules. The training loop, checkpoints, data and
evaluation only ever see this protocol, so nothing outside a family branches on it.

Optional abilities are *declared* in ``capabilities`` (a :class:`Capabilities`), never
discovered by calling a method and catching its error:

* ``sample=True``: ``sample(state, key, num, **options)`` draws new data; its keyword
  options (``label``, ``sampler``, ``steps``, ...) are listed in ``sample_options`` with
  their types and help, so ``genjax sample RUN --help`` shows them and ``genjax sample`` passes
  only those. ``sample=False`` comes with ``cannot_sample``: why, and what to run instead.
* ``reconstruct=True``: ``reconstruct(state, batch, key) -> images`` (autoencoders); the loop
  then writes reconstruction grids next to the sample grids. With ``reconstruct_from`` (a
  batch key, e.g. ``"source"``) ``reconstruct`` translates that field into the data
  (image-to-image translation): the grids show source | output | target, and ``genjax eval``
  judges the translations of the test split's sources as the samples of a model that cannot
  ``sample`` unconditionally.
* ``test_metrics=True``: ``test_metrics(state, batch, key) -> Metrics``, per-batch means of
  the expensive held-out numbers ``genjax eval`` reports with a ``test_`` prefix (an ELBO, an
  IWAE bound, bits per dimension); without it ``genjax eval`` averages ``eval_metrics``.
* ``latents=True``: a latent space with a ``N(0, I)`` prior: ``prior_latents(state, key, num)
  -> z`` draws the latents ``sample(state, key, num)`` decodes and ``decode_latents(state, z,
  **options) -> data`` decodes any (same ``sample_options``), so that ``sample(state, key,
  num, **o) == decode_latents(state, prior_latents(state, key, num), **o)``
  (``genjax.Model.interpolate`` walks between two of them).
* ``encode=True`` (with ``latents``): ``encode_latents(state, batch, key) -> z``, the codes of
  data (an autoencoder's encoder; a VAE's posterior means).
* ``log_prob=True``: ``log_prob(state, batch, key, **options) -> (B,)``: ``log p(x)`` per
  example in nats, or a lower bound on it (``log_prob_about`` says which); its keyword options
  are ``log_prob_options`` (e.g. a VAE's ``k`` importance samples).

Data parallelism needs nothing from an objective: collectives come from
``genjax.core.collectives`` (see ``docs/architecture.md``).
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar, Protocol, runtime_checkable

import jax

from genjax.core.state import TrainState

Batch = dict[str, jax.Array]
Metrics = dict[str, jax.Array]


@dataclasses.dataclass(frozen=True)
class SampleOption:
    """A keyword option of an objective's ``sample``.

    Attributes:
      name: the keyword (and the ``genjax sample --NAME`` flag).
      type: ``int``, ``float`` or ``str``: how the command line parses it.
      help: one line for ``--help``.
    """

    name: str
    type: type
    help: str


@dataclasses.dataclass(frozen=True)
class Capabilities:
    """What an objective can do beyond ``init``/``train_step``/``eval_metrics``.

    Attributes:
      sample: it has ``sample(state, key, num, **options)``.
      reconstruct: it has ``reconstruct(state, batch, key)``.
      test_metrics: it has ``test_metrics(state, batch, key)``.
      sample_options: the keyword options its ``sample`` takes.
      cannot_sample: when ``sample`` is False: why, and what to run instead.
      exp_metrics: ``(name, reported)`` pairs: ``genjax eval`` also reports the exponential
        of the whole split's mean ``test_<name>`` (in nats) as ``test_<reported>``, e.g.
        ``("nats_per_token", "perplexity")``.
      ratio_metrics: ``(reported, numerator, denominator, scale)``: ``genjax eval`` also
        reports ``test_<reported> = scale * test_<numerator> / test_<denominator>`` of the
        whole split's means, e.g. bits per byte from nats and bytes per token.
      latents: it has ``prior_latents(state, key, num)`` and ``decode_latents(state, z,
        **sample_options)`` (see the module docstring).
      encode: it has ``encode_latents(state, batch, key)`` (needs ``latents``).
      log_prob: it has ``log_prob(state, batch, key, **log_prob_options)``.
      log_prob_options: the keyword options of ``log_prob``.
      log_prob_about: one line: what ``log_prob`` returns (exact, a bound, an estimate).
      reconstruct_from: the batch key ``reconstruct`` translates from when it is not the data
        itself (a translation model's ``"source"``); needs ``reconstruct``.
    """

    sample: bool = True
    reconstruct: bool = False
    test_metrics: bool = False
    sample_options: tuple[SampleOption, ...] = ()
    cannot_sample: str = ""
    exp_metrics: tuple[tuple[str, str], ...] = ()
    ratio_metrics: tuple[tuple[str, str, str, float], ...] = ()
    latents: bool = False
    encode: bool = False
    log_prob: bool = False
    log_prob_options: tuple[SampleOption, ...] = ()
    log_prob_about: str = ""
    reconstruct_from: str = ""

    def __post_init__(self):
        if not self.sample and not self.cannot_sample:
            raise ValueError("an objective that cannot sample must say why (cannot_sample)")
        if not self.sample and (self.sample_options or self.latents):
            raise ValueError("sample_options and latents need sample=True")
        if self.encode and not self.latents:
            raise ValueError("encode needs latents (decode_latents maps the codes back)")
        if self.log_prob != bool(self.log_prob_about):
            raise ValueError("log_prob and log_prob_about come together: say what log_prob "
                             "returns (exact, a bound, an estimate)")
        if self.log_prob_options and not self.log_prob:
            raise ValueError("log_prob_options need log_prob=True")
        if self.reconstruct_from and not self.reconstruct:
            raise ValueError("reconstruct_from needs reconstruct=True (reconstruct translates "
                             "that batch field)")

    @property
    def translates(self) -> bool:
        """Whether ``reconstruct`` translates another batch field (``reconstruct_from``)."""
        return bool(self.reconstruct_from)

    def option_names(self) -> tuple[str, ...]:
        """The names of ``sample_options``."""
        return tuple(o.name for o in self.sample_options)


#: Options several families share (one flag, one meaning).
LABEL = SampleOption("label", int, "class to sample (class-conditional models)")


@runtime_checkable
class Objective(Protocol):
    """What a model family provides. Every method is pure and jit-able.

    Attributes:
      data_key: the batch field the model generates (the modality's batch key, e.g.
        ``"image"``).
      capabilities: what it can do beyond training (see :class:`Capabilities`).
    """

    data_key: str
    capabilities: ClassVar[Capabilities]

    def init(self, key: jax.Array, batch: Batch) -> TrainState:
        """Initial state, shaped from an example batch."""
        ...

    def train_step(
        self, state: TrainState, batch: Batch, key: jax.Array
    ) -> tuple[TrainState, Metrics]:
        """One optimisation step; returns the new state and scalar metrics (float32)."""
        ...

    def eval_metrics(self, state: TrainState, batch: Batch, key: jax.Array) -> Metrics:
        """Scalar metrics on a held-out batch."""
        ...
