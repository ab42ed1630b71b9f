"""Variational autoencoder (Kingma & Welling, 2014) with an importance-weighted NLL estimate.

Model: ``p(z) = N(0, I)``, ``p(x | z)`` from a decoder, and an encoder giving a diagonal
Gaussian ``q(z | x) = N(mu(x), diag(exp(log_var(x))))``.

Scaling of every term (one convention throughout, nats):

* ``log p(x | z)``: per image, SUMMED over all pixels and channels;
* ``KL(q(z | x) || p(z))``: per image, analytic, SUMMED over latent dimensions;
* the training loss ``-log p(x | z) + beta * KL`` and every reported metric: the MEAN over the
  batch of these per-image values (one reparameterised sample ``z`` per image).

Likelihoods (``likelihood`` field):

* ``"bernoulli"``: for MNIST. Training images are DYNAMICALLY binarised: every step draws
  ``x_bin ~ Bernoulli((x + 1) / 2)`` afresh from the step's key (each pixel independently);
  the encoder sees ``x_bin`` (mapped to {-1, 1}) and the decoder's logits score it. For
  held-out numbers (``eval_metrics``, ``test_metrics``) a test image is binarised ONCE from
  the key the caller gives (``genjax eval`` / the loop pass ``fold_in(eval_key, batch_index)``,
  so the same run seed gives the same binarised test set), and the ELBO and the IWAE bound
  score the same binary images. Images that are already binary (values -1/1) pass unchanged,
  so a caller can fix the binarisation itself.
* ``"gaussian"``: for continuous data in [-1, 1]: ``N(x; decoder(z), s^2)`` per pixel, with
  ``s = gaussian_scale`` fixed, or one learned log-scale per channel (``gaussian_scale=None``;
  initialised at 0, i.e. ``s = 1``). Being a density on continuous values, its log-likelihood
  can be positive; it is not comparable with the Bernoulli numbers. (A discretised logistic
  is not implemented.)

Training options (all off by default, which is the plain ELBO above):

* ``train_k > 1``: the IWAE training loss (Burda et al., 2016): ``-mean_b L_k(x_b)`` with
  ``L_k = log (1/k) sum_i w_i``, ``log w_i = log p(x|z_i) + c (log p(z_i) - log q(z_i|x))``,
  ``k`` reparameterised samples ``z_i ~ q(z | x)`` per image and ``c`` the KL weight below
  (``c = 1``: the exact bound; ``k = 1`` with ``c = 1`` is the ELBO with a sampled KL, so
  ``train_k = 1`` keeps the analytic KL instead);
* ``kl_warmup_steps``: the KL weight rises linearly from 0 at step 0 to ``beta`` at that step
  (Bowman et al., 2016; Sønderby et al., 2016), then stays at ``beta``;
* ``shift_pixels = s``: each training image is translated by an integer offset drawn
  uniformly from ``[-s, s]^2`` (background ``-1`` enters at the border) before its
  binarisation, an augmentation against overfitting small training sets. Held-out metrics
  never shift.

Held-out metrics: ``elbo`` (``beta = 1`` whatever the training ``beta``) and
``nll_iwae_{k}``, the negated importance-weighted bound (Burda et al., 2016)
``log (1/k) sum_i p(x, z_i) / q(z_i | x)``, ``z_i ~ q``, computed with ``logsumexp`` on
float32 log-weights (each a sum of ~784 terms around -100 nats, well inside float32) in
chunks of at most ``iwae_chunk`` decoder evaluations, so memory does not grow with ``k``.
"""

from __future__ import annotations

import dataclasses
import math
from typing import ClassVar

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax

from genjax.core.collectives import batch_random
from genjax.core.objective import Capabilities, SampleOption
from genjax.core.state import TrainState, apply_updates
from genjax.losses.likelihood import (
    bernoulli_log_prob,
    binarize,
    diag_normal_log_prob,
    from_unit,
    gaussian_log_prob,
    standard_normal_log_prob,
    to_unit,
)

LIKELIHOODS = ("bernoulli", "gaussian")


def gaussian_kl(mean: jax.Array, log_var: jax.Array) -> jax.Array:
    """``KL(N(mean, diag(exp(log_var))) || N(0, I))``, summed over the last axis.

    ``0.5 * sum(mean^2 + exp(log_var) - 1 - log_var)``.
    """
    return 0.5 * jnp.sum(mean * mean + jnp.exp(log_var) - 1.0 - log_var, axis=-1)


def random_shift(key: jax.Array, images: jax.Array, max_shift: int,
                 fill: float = -1.0) -> jax.Array:
    """Each image translated by its own integer offset ``(dy, dx)``, uniform in ``[-s, s]^2``.

    ``out[b, i, j] = images[b, i - dy_b, j - dx_b]`` where that index is inside the image,
    else ``fill``. Under pmap the offsets are those one device draws for the global batch
    (``genjax.core.collectives.batch_random``).

    Args:
      key: the offsets' randomness.
      images: ``(B, H, W, C)``.
      max_shift: ``s >= 0`` pixels.
      fill: the value shifted in at the borders (-1: background of images in [-1, 1]).

    Returns:
      ``(B, H, W, C)``, the same dtype.
    """
    if max_shift == 0:
        return images
    b, h, w, c = images.shape
    s = max_shift
    padded = jnp.pad(images, ((0, 0), (s, s), (s, s), (0, 0)), constant_values=fill)

    def draw(k, shape):
        return jax.random.randint(k, shape, -s, s + 1)

    shift = batch_random(draw, key, (b, 2))  # (dy, dx)

    def crop(image, d):
        return jax.lax.dynamic_slice(image, (s - d[0], s - d[1], 0), (h, w, c))

    return jax.vmap(crop)(padded, shift)


def importance_bound(log_weights: jax.Array, axis: int = 0) -> jax.Array:
    """``log (1/k) sum_i exp(w_i)`` along ``axis``, by a max-shifted logsumexp."""
    k = log_weights.shape[axis]
    return jax.nn.logsumexp(log_weights, axis=axis) - math.log(k)


@dataclasses.dataclass(frozen=True)
class VAE:
    """A VAE objective over any encoder/decoder pair of linen modules (see the module docstring).

    Attributes:
      encoder: ``images (B, H, W, C) -> (B, 2 * latent_dim)`` (mean, then log-variance).
      decoder: ``z (..., latent_dim) -> (..., H, W, C)`` logits (bernoulli) or means (gaussian).
      latent_dim: size of z.
      optimizer: optax transformation for all parameters.
      likelihood: ``"bernoulli"`` (dynamically binarised) or ``"gaussian"``.
      beta: weight of the KL term in the training loss (1: the ELBO; beta-VAE otherwise).
      gaussian_scale: fixed pixel std for the gaussian likelihood; None learns one per channel.
      iwae_k: importance samples of ``test_metrics``'s ``nll_iwae_{k}``.
      iwae_chunk: decoder evaluations per chunk of the IWAE bound (memory bound).
      train_k: importance samples of the training bound (1: the ELBO with analytic KL).
      kl_warmup_steps: steps of the KL weight's linear rise from 0 to ``beta`` (0: none).
      shift_pixels: largest random translation of training images, pixels (0: none).
      data_key: the batch field holding images.

    Under ``jax.pmap`` the step averages gradients over the devices and draws its noise as on
    one device (``genjax.core.collectives``).
    """

    encoder: nn.Module
    decoder: nn.Module
    latent_dim: int
    optimizer: optax.GradientTransformation
    likelihood: str = "bernoulli"
    beta: float = 1.0
    gaussian_scale: float | None = 0.1
    iwae_k: int = 1000
    iwae_chunk: int = 8192
    train_k: int = 1
    kl_warmup_steps: int = 0
    shift_pixels: int = 0
    capabilities: ClassVar[Capabilities] = Capabilities(
        reconstruct=True, test_metrics=True, latents=True, encode=True, log_prob=True,
        log_prob_options=(SampleOption("k", int, "importance samples of the IWAE bound "
                                                 "(default: the run's eval.iwae_k)"),),
        log_prob_about="the IWAE lower bound L_k on log p(x) (nats per image; bernoulli: "
                       "of the image binarised once from the key)")
    data_key: str = "image"

    def __post_init__(self):
        if self.likelihood not in LIKELIHOODS:
            raise ValueError(f"unknown likelihood {self.likelihood!r}; choose one of "
                             f"{list(LIKELIHOODS)}")
        if self.latent_dim < 1 or self.iwae_k < 1 or self.iwae_chunk < 1:
            raise ValueError(f"latent_dim, iwae_k and iwae_chunk must be >= 1; got "
                             f"{self.latent_dim}, {self.iwae_k}, {self.iwae_chunk}")
        if self.train_k < 1 or self.kl_warmup_steps < 0 or self.shift_pixels < 0:
            raise ValueError(f"train_k must be >= 1 and kl_warmup_steps, shift_pixels >= 0; "
                             f"got {self.train_k}, {self.kl_warmup_steps}, {self.shift_pixels}")
        if self.beta < 0:
            raise ValueError(f"beta must be >= 0, got {self.beta}")
        if self.gaussian_scale is not None and self.gaussian_scale <= 0:
            raise ValueError(f"gaussian_scale must be > 0 (or None to learn it), got "
                             f"{self.gaussian_scale}")

    # -- pieces ----------------------------------------------------------------------------
    def prepare(self, images: jax.Array, key: jax.Array) -> tuple[jax.Array, jax.Array]:
        """Encoder inputs and likelihood targets of a batch of images in [-1, 1].

        Args:
          images: ``(B, H, W, C)`` in [-1, 1].
          key: the binarisation's randomness (bernoulli only).

        Returns:
          ``(inputs, targets)``: bernoulli: ``(x_bin in {-1, 1}, x_bin in {0, 1})``;
          gaussian: ``(images, images)``.
        """
        if self.likelihood == "bernoulli":
            target = binarize(key, to_unit(images))
            return from_unit(target), target
        return images, images

    def encode(self, params, inputs: jax.Array) -> tuple[jax.Array, jax.Array]:
        """``(mean, log_var)`` of ``q(z | x)``, each ``(B, latent_dim)``."""
        out = self.encoder.apply({"params": params["encoder"]}, inputs)
        if out.shape[-1] != 2 * self.latent_dim:
            raise ValueError(f"the encoder gives {out.shape[-1]} outputs; a VAE with latent_dim="
                             f"{self.latent_dim} needs 2 * latent_dim = {2 * self.latent_dim}")
        return out[..., : self.latent_dim], out[..., self.latent_dim:]

    def log_likelihood(self, params, z: jax.Array, targets: jax.Array) -> jax.Array:
        """``log p(x | z)`` per image (summed over pixels); ``z`` may have extra leading axes."""
        out = self.decoder.apply({"params": params["decoder"]}, z)
        if self.likelihood == "bernoulli":
            return bernoulli_log_prob(out, targets)
        return gaussian_log_prob(out, self._log_scale(params), targets)

    def _log_scale(self, params) -> jax.Array:
        if self.gaussian_scale is None:
            return params["log_scale"]
        return jnp.asarray(math.log(self.gaussian_scale), jnp.float32)

    def elbo_terms(self, params, inputs: jax.Array, targets: jax.Array, key: jax.Array
                   ) -> tuple[jax.Array, jax.Array]:
        """``(log p(x | z), KL)`` per image with one reparameterised ``z ~ q(z | x)``.

        Returns:
          Two ``(B,)`` arrays in nats (sums over pixels and over latent dimensions).
        """
        mean, log_var = self.encode(params, inputs)
        eps = batch_random(jax.random.normal, key, mean.shape)
        z = mean + jnp.exp(0.5 * log_var) * eps
        return self.log_likelihood(params, z, targets), gaussian_kl(mean, log_var)

    def kl_weight(self, step: jax.Array) -> jax.Array | float:
        """The KL weight at ``step``: ``beta * min(1, step / kl_warmup_steps)`` (or ``beta``)."""
        if not self.kl_warmup_steps:
            return self.beta
        ramp = jnp.minimum(1.0, step.astype(jnp.float32) / self.kl_warmup_steps)
        return self.beta * ramp

    def train_bound_terms(self, params, inputs: jax.Array, targets: jax.Array, key: jax.Array,
                          kl_weight) -> tuple[jax.Array, jax.Array, jax.Array]:
        """The IWAE training bound with ``train_k`` samples per image, and its parts.

        ``log w_i = log p(x|z_i) + kl_weight * (log p(z_i) - log q(z_i|x))``; the noise is a
        ``(B, k, latent)`` draw from ``key`` (per-example under pmap).

        Returns:
          ``(bound, log_px, kl)``, each ``(B,)``: ``log (1/k) sum_i w_i``, and the means over
          the ``k`` samples of ``log p(x|z_i)`` and of ``log q(z_i|x) - log p(z_i)`` (a
          sampled KL).
        """
        mean, log_var = self.encode(params, inputs)
        n, k = mean.shape[0], self.train_k
        eps = batch_random(jax.random.normal, key, (n, k, self.latent_dim))
        mean_k, log_var_k = mean[:, None], log_var[:, None]
        z = mean_k + jnp.exp(0.5 * log_var_k) * eps  # (B, k, latent)
        log_px = self.log_likelihood(params, z, targets[:, None])  # (B, k)
        kl = diag_normal_log_prob(z, mean_k, log_var_k) - standard_normal_log_prob(z)
        bound = importance_bound(log_px - kl_weight * kl, axis=1)
        return bound, jnp.mean(log_px, axis=1), jnp.mean(kl, axis=1)

    def iwae_bound(self, params, inputs: jax.Array, targets: jax.Array, key: jax.Array,
                   k: int) -> jax.Array:
        """The importance-weighted bound ``L_k`` per image, ``(B,)`` nats.

        ``log (1/k) sum_i exp(log p(x|z_i) + log p(z_i) - log q(z_i|x))``, ``z_i ~ q(z|x)``.
        Samples come in chunks of ``c = clip(iwae_chunk // B, 1, k)``; chunk ``j`` draws its
        noise from ``fold_in(key, j)``; the last chunk's surplus samples are dropped.

        Args:
          params: the VAE's parameters.
          inputs: encoder inputs ``(B, H, W, C)``.
          targets: likelihood targets, same shape.
          key: the sampling key.
          k: number of importance samples (k=1 gives a one-sample ELBO estimate).

        Returns:
          ``L_k`` for each image.
        """
        mean, log_var = self.encode(params, inputs)
        n = mean.shape[0]
        c = max(1, min(k, self.iwae_chunk // max(n, 1)))
        chunks = -(-k // c)
        std = jnp.exp(0.5 * log_var)

        def chunk_log_weights(j):
            eps = jax.random.normal(jax.random.fold_in(key, j), (c,) + mean.shape)
            z = mean + std * eps
            log_px = self.log_likelihood(params, z, targets)
            return log_px + standard_normal_log_prob(z) - diag_normal_log_prob(z, mean, log_var)

        log_w = jax.lax.map(chunk_log_weights, jnp.arange(chunks))  # (chunks, c, B)
        log_w = log_w.reshape(chunks * c, n)[:k]
        return importance_bound(log_w, axis=0)

    def _decode_images(self, params, z: jax.Array) -> jax.Array:
        out = self.decoder.apply({"params": params["decoder"]}, z)
        if self.likelihood == "bernoulli":
            return from_unit(jax.nn.sigmoid(out))
        return jnp.clip(out, -1.0, 1.0)

    # -- Objective protocol ----------------------------------------------------------------
    def init(self, key: jax.Array, batch: dict[str, jax.Array]) -> TrainState:
        """Initialises encoder and decoder (and a learned log-scale) from an example batch."""
        images = jnp.asarray(batch[self.data_key])
        ke, kd = jax.random.split(key)
        params = {
            "encoder": self.encoder.init(ke, images)["params"],
            "decoder": self.decoder.init(kd, jnp.zeros((1, self.latent_dim)))["params"],
        }
        if self.likelihood == "gaussian" and self.gaussian_scale is None:
            params["log_scale"] = jnp.zeros((images.shape[-1],), jnp.float32)
        self.encode(params, images[:1])  # checks the encoder's width
        return TrainState.create(params, self.optimizer.init(params))

    def train_step(self, state: TrainState, batch: dict[str, jax.Array], key: jax.Array):
        """One gradient step on ``mean(-log p(x|z) + c * KL)`` (per image sums, batch mean),
        ``c = kl_weight(step)``; with ``train_k > 1`` on ``-mean L_k`` instead (module
        docstring). Training images are shifted first when ``shift_pixels > 0``.

        Returns:
          ``(state, metrics)``: ``loss``, ``elbo`` (beta = 1), ``recon`` (``-log p(x|z)``),
          ``kl``; batch means in nats per image (with ``train_k > 1``: means over the
          ``k`` samples, the KL sampled; ``kl_weight`` too when warming up).
        """
        kb, kz = jax.random.split(key)
        images = random_shift(jax.random.fold_in(key, 2), batch[self.data_key],
                              self.shift_pixels)
        inputs, targets = self.prepare(images, kb)
        weight = self.kl_weight(state.step)

        def loss_fn(params):
            if self.train_k > 1:
                bound, log_px, kl = self.train_bound_terms(params, inputs, targets, kz, weight)
                return -jnp.mean(bound), (log_px, kl)
            log_px, kl = self.elbo_terms(params, inputs, targets, kz)
            loss = jnp.mean(-log_px + weight * kl)
            return loss, (log_px, kl)

        (loss, (log_px, kl)), grads = jax.value_and_grad(loss_fn, has_aux=True)(state.params)
        params, opt_state = apply_updates(self.optimizer, grads, state.opt_state, state.params)
        metrics = {"loss": loss, "elbo": jnp.mean(log_px - kl), "recon": -jnp.mean(log_px),
                   "kl": jnp.mean(kl)}
        if self.kl_warmup_steps:
            metrics["kl_weight"] = jnp.asarray(weight, jnp.float32)
        return state.replace(params=params, opt_state=opt_state), metrics

    def sample(self, state: TrainState, key: jax.Array, num: int) -> jax.Array:
        """Decodes ``z ~ N(0, I)``: Bernoulli means (or clipped Gaussian means) in [-1, 1]."""
        return self.decode_latents(state, self.prior_latents(state, key, num))

    def prior_latents(self, state: TrainState, key: jax.Array, num: int) -> jax.Array:
        """The ``z ~ N(0, I)``, ``(num, latent_dim)``, that ``sample`` decodes from ``key``."""
        return jax.random.normal(key, (num, self.latent_dim))

    def decode_latents(self, state: TrainState, z: jax.Array) -> jax.Array:
        """Images in [-1, 1] of latents ``z (N, latent_dim)`` (Bernoulli or Gaussian means)."""
        return self._decode_images(state.params, z)

    def encode_latents(self, state: TrainState, batch: dict[str, jax.Array],
                       key: jax.Array) -> jax.Array:
        """Posterior means ``mu(x)``, ``(B, latent_dim)``, of the images as ``reconstruct``
        encodes them (bernoulli: binarised from ``key`` first)."""
        inputs, _ = self.prepare(batch[self.data_key], key)
        return self.encode(state.params, inputs)[0]

    def log_prob(self, state: TrainState, batch: dict[str, jax.Array], key: jax.Array,
                 k: int | None = None) -> jax.Array:
        """The IWAE bound ``L_k`` per image, ``(B,)`` nats: a lower bound on ``log p(x)``.

        The key is used as ``test_metrics`` uses it (binarisation from ``split(key, 3)[0]``,
        importance samples from ``[2]``), so ``-mean(log_prob(state, batch, key, iwae_k))`` is
        ``test_metrics(state, batch, key)["nll_iwae_{iwae_k}"]``.

        Args:
          k: importance samples (None: ``iwae_k``).
        """
        k = self.iwae_k if k is None else int(k)
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        kb, _, ki = jax.random.split(key, 3)
        inputs, targets = self.prepare(batch[self.data_key], kb)
        return self.iwae_bound(state.params, inputs, targets, ki, k)

    def reconstruct(self, state: TrainState, batch: dict[str, jax.Array],
                    key: jax.Array) -> jax.Array:
        """Decoded posterior means ``decoder(mu(x))`` as images in [-1, 1].

        For the bernoulli likelihood the encoder sees a binarisation of the batch drawn with
        ``key`` (as in training); the loop's grid shows the grey inputs above.
        """
        return self._decode_images(state.params, self.encode_latents(state, batch, key))

    def eval_metrics(self, state: TrainState, batch: dict[str, jax.Array], key: jax.Array):
        """One-sample ELBO (beta = 1), reconstruction term and KL on a held-out batch."""
        kb, kz = jax.random.split(key)
        inputs, targets = self.prepare(batch[self.data_key], kb)
        log_px, kl = self.elbo_terms(state.params, inputs, targets, kz)
        return {"elbo": jnp.mean(log_px - kl), "recon": -jnp.mean(log_px), "kl": jnp.mean(kl)}

    def test_metrics(self, state: TrainState, batch: dict[str, jax.Array], key: jax.Array):
        """Held-out ``elbo`` and ``nll_iwae_{k}`` (``k = iwae_k``), batch means in nats/image.

        The batch is binarised once from ``key`` (bernoulli); both numbers score those images.
        """
        kb, kz, ki = jax.random.split(key, 3)
        inputs, targets = self.prepare(batch[self.data_key], kb)
        log_px, kl = self.elbo_terms(state.params, inputs, targets, kz)
        bound = self.iwae_bound(state.params, inputs, targets, ki, self.iwae_k)
        return {"elbo": jnp.mean(log_px - kl), f"nll_iwae_{self.iwae_k}": -jnp.mean(bound)}
