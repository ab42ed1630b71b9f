"""The Python API: ``genjax.train`` and ``genjax.load`` (``import genjax`` imports this lazily).

``genjax.train`` writes the same run folder as ``genjax train`` (``config.json``,
``checkpoints/``, ``metrics.jsonl``, ``tensorboard/``, ``samples/``, ``plots/``) with the same
JAX settings, so ``genjax sample`` / ``genjax eval`` and ``genjax.load`` take its folder; and
``genjax.load`` takes the folder of either.

    import genjax

    model = genjax.train("gan_toy2d", "runs/toy2d", train__steps=20)
    points = model.sample(500, seed=0)           # a NumPy array, (500, 2)
    model = genjax.load("runs/toy2d")            # later, or in another process
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["Model", "load", "offers", "slerp", "train"]


def slerp(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Spherical interpolation: ``sin((1 - t) w) / sin(w) a + sin(t w) / sin(w) b`` for each
    ``t`` in [0, 1], ``w`` the angle between the vectors ``a`` and ``b`` (linear where they
    are (anti)parallel, ``sin(w) ~ 0``); ``t = 0`` gives ``a`` and ``t = 1`` gives ``b``
    exactly. Computed in float64, returned as float32 ``(len(t), *a.shape)``."""
    a64, b64 = np.asarray(a, np.float64), np.asarray(b, np.float64)
    t = np.asarray(t, np.float64).reshape((-1,) + (1,) * a64.ndim)
    cos = np.dot(a64.ravel(), b64.ravel()) / max(
        np.linalg.norm(a64) * np.linalg.norm(b64), np.finfo(np.float64).tiny)
    omega = np.arccos(np.clip(cos, -1.0, 1.0))
    if np.sin(omega) < 1e-6:
        out = (1 - t) * a64 + t * b64
    else:
        out = (np.sin((1 - t) * omega) * a64 + np.sin(t * omega) * b64) / np.sin(omega)
    out = np.where(t == 0, a64, np.where(t == 1, b64, out))  # the ends exactly, no rounding
    return out.astype(np.float32)


def offers(capabilities: Any) -> tuple[str, ...]:
    """The :class:`Model` methods an objective's ``Capabilities`` declare (for messages)."""
    names = [("sample", capabilities.sample), ("reconstruct", capabilities.reconstruct),
             ("latents", capabilities.latents), ("decode", capabilities.latents),
             ("interpolate", capabilities.latents), ("encode", capabilities.encode),
             ("log_prob", capabilities.log_prob)]
    return tuple(name for name, declared in names if declared)


def train(config_or_name: Any, workdir: str | Path, *, allow_config_change: bool = False,
          restart_from_scratch: bool = False, **overrides: Any) -> Model:
    """Trains a config into ``workdir`` exactly as ``genjax train`` does, and loads the result.

    Re-running on a folder with checkpoints resumes from the latest one (a finished run trains
    nothing); one trainer at a time holds a folder; Ctrl-C saves a checkpoint and raises
    ``genjax.core.loop.TrainingInterrupted``.

    Args:
      config_or_name: a named config (``genjax configs``), a ``.py`` file with
        ``get_config()``, or an ``ml_collections.ConfigDict`` (copied, never changed).
      workdir: the run folder.
      allow_config_change: resume even if model/data/optimizer keys differ from the saved
        config (as ``--allow-config-change``).
      restart_from_scratch: move the folder's run aside and start again from step 0.
      **overrides: config keys to change, ``train__steps=50`` or ``**{"train.steps": 50}``
        (as ``--config.train.steps=50``; a value of the key's type).

    Returns:
      The trained :class:`Model`.

    Raises:
      genjax.config.ConfigError: an unknown key, a value of the wrong type, a config that
        conflicts with the folder's run.
      genjax.core.files.WorkdirError: a folder that cannot be used (the message says why).
    """
    from genjax import config as gconfig
    from genjax.app.training import configure_jax, train_run
    from genjax.core.files import workdir_path

    configure_jax()
    if isinstance(config_or_name, str | Path):
        name = str(config_or_name)
        config = gconfig.load_config(name)
    else:
        import ml_collections

        if not isinstance(config_or_name, ml_collections.ConfigDict):
            raise TypeError("config_or_name must be a config name, a .py path or an "
                            f"ml_collections.ConfigDict, got {type(config_or_name).__name__}")
        name = "a ConfigDict"
        config = ml_collections.ConfigDict(config_or_name.to_dict())
    gconfig.apply_overrides(config, [f"{key.replace('__', '.')}={_override_text(value)}"
                                     for key, value in overrides.items()])
    train_run(config, workdir_path(workdir), name=name,
              allow_config_change=allow_config_change,
              restart_from_scratch=restart_from_scratch)
    return load(workdir)


def _override_text(value: Any) -> str:
    """A Python value as the ``VALUE`` of ``--config.KEY=VALUE``."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        value = tuple(value)
    return repr(value)


def load(workdir: str | Path) -> Model:
    """The latest checkpoint of a run folder written by ``genjax train`` / ``genjax.train``,
    or a file written by ``genjax export`` (which needs neither the dataset nor the run).

    Raises:
      genjax.core.files.WorkdirError: not a run folder, or no checkpoint yet; an export of
        another format version, or a damaged one (``genjax.app.export.ExportError``).
    """
    from genjax.app.experiment import load_run
    from genjax.app.training import configure_jax

    configure_jax()
    workdir = Path(workdir)
    if workdir.is_file():
        from genjax.app.export import load_export

        config, exported, arrays = load_export(workdir)
        return Model(workdir=workdir, config=config.to_dict(), objective=exported.objective,
                     state=arrays, modality=exported.modality, step=exported.step)
    config, experiment, state = load_run(workdir)
    return Model(workdir=workdir, config=config.to_dict(), objective=experiment.objective,
                 state=state, modality=experiment.modality)


class Model:
    """A trained model: its config and latest state, with what its family can do.

    Attributes:
      workdir: the run folder (or the exported file) it was loaded from.
      config: the run's resolved config (a plain dict).
      family: ``config["family"]``.
      step: the training step of the loaded checkpoint.
      sample_options: the keyword options ``sample`` takes (``label``, ``sampler``, ...).
      offers: the optional methods its family declares (``sample``, ``reconstruct``,
        ``latents`` / ``decode`` / ``interpolate`` (GANs, VAEs, AAEs), ``encode`` (VAEs,
        AAEs), ``log_prob`` (VAEs: the IWAE bound; flows: the ODE log-likelihood)); the
        others raise a ValueError that names the family and lists these.
    """

    def __init__(self, workdir: Path, config: dict, objective: Any, state: Any, modality: Any,
                 step: int | None = None):
        import jax

        self.workdir, self.config = workdir, config
        self.family: str = config["family"]
        self.step: int = int(jax.device_get(state.step)) if step is None else step
        self._objective, self._state, self._modality = objective, state, modality
        caps = objective.capabilities
        self.sample_options: tuple[str, ...] = caps.option_names() if caps.sample else ()

    def __repr__(self) -> str:
        return f"genjax.Model({self.family!r}, step={self.step}, workdir={str(self.workdir)!r})"

    def sample(self, num: int, seed: int = 0, **options: Any) -> np.ndarray:
        """``num`` samples, identical to ``genjax sample WORKDIR --num NUM --seed SEED``'s.

        Args:
          num: how many.
          seed: the sampling seed.
          **options: the family's sample options (see ``sample_options``; e.g. ``label=3``,
            ``sampler="ddim"``, ``steps=50``).

        Returns:
          Images (num, H, W, C) as floats in [-1, 1], or points (num, D).

        Raises:
          TypeError: an option this model does not take.
          ValueError: a model that cannot sample (e.g. a classifier), a bad option value.
        """
        import jax

        from genjax.app.sampling import draw_samples

        caps = self._objective.capabilities
        if not caps.sample:
            raise ValueError(caps.cannot_sample)
        if num < 1:
            raise ValueError(f"num must be >= 1, got {num}")
        unknown = sorted(set(options) - set(self.sample_options))
        if unknown:
            raise TypeError(f"this {self.family!r} model does not take {', '.join(unknown)}; "
                            f"its sample takes {', '.join(self.sample_options) or 'no options'}")
        return draw_samples(self._objective, self._state, jax.random.PRNGKey(seed), num,
                            options=options)

    def reconstruct(self, inputs: np.ndarray, seed: int = 0) -> np.ndarray:
        """The model's reconstructions of ``inputs`` (autoencoder families), or its
        translations of them (a family declaring ``reconstruct_from``, e.g. pix2pix: ``inputs``
        are sources, such as edge maps).

        Args:
          inputs: a batch in the model's data format (images (N, H, W, C) in [-1, 1]).
          seed: for families whose reconstruction is random.

        Raises:
          ValueError: a family without reconstructions.
        """
        import jax

        self._require("reconstruct", "reconstructions")
        batch = self._batch(inputs, self._objective.capabilities.reconstruct_from)
        out = self._objective.reconstruct(self._state, batch, jax.random.PRNGKey(seed))
        return np.asarray(out)

    # -- family extras (declared in the objective's capabilities) ---------------------------
    def latents(self, num: int, seed: int = 0) -> np.ndarray:
        """The latents ``sample(num, seed)`` decodes: ``decode(latents(n, s)) == sample(n, s)``
        (GANs, VAEs, AAEs; ``N(0, I)`` draws, ``(num, latent_dim)``).

        Raises:
          ValueError: a family without a latent space.
        """
        import jax

        from genjax.app.sampling import iter_chunks

        self._require("latents", "latent space")
        if num < 1:
            raise ValueError(f"num must be >= 1, got {num}")
        draw = jax.jit(self._objective.prior_latents, static_argnums=2)
        return np.concatenate(list(iter_chunks(lambda k, n: draw(self._state, k, n),
                                               jax.random.PRNGKey(seed), num)))

    def decode(self, z: np.ndarray, **options: Any) -> np.ndarray:
        """The data of latents ``z (N, latent_dim)`` (images (N, H, W, C) in [-1, 1], or
        points), with the family's sample options (e.g. ``label=3``).

        Raises:
          ValueError: a family without a latent space, latents of the wrong width.
          TypeError: an option this model does not take.
        """
        import functools

        import jax

        self._require("latents", "latent space")
        self._check_options(options, self.sample_options, "sample")
        z = np.asarray(z, np.float32)
        width = jax.eval_shape(lambda s: self._objective.prior_latents(
            s, jax.random.PRNGKey(0), 1), self._state).shape[1:]
        if z.ndim != 2 or z.shape[1:] != width:
            raise ValueError(f"latents must be (N, {', '.join(map(str, width))}) for this "
                             f"{self.family!r} model, got {z.shape}")
        fn = jax.jit(functools.partial(self._objective.decode_latents, **options))
        return np.asarray(fn(self._state, z))

    def interpolate(self, a: int, b: int, steps: int = 8, **options: Any) -> np.ndarray:
        """A latent walk: ``steps`` decoded latents from seed ``a``'s to seed ``b``'s.

        The endpoints are the latents ``latents(1, seed=a)`` and ``latents(1, seed=b)`` (so the
        first and last outputs are ``sample(1, seed=a)`` and ``sample(1, seed=b)``); between
        them the walk is **spherical** (:func:`slerp`: along the great circle at evenly spaced
        angles, which keeps the latents at the norms typical of the ``N(0, I)`` prior; a
        linear walk's midpoints are unusually short).

        Args:
          a, b: the seeds of the two endpoint latents.
          steps: how many outputs (>= 2), endpoints included.
          **options: the family's sample options (e.g. ``label=3``).

        Raises:
          ValueError: a family without a latent space (the message says what it offers).
        """
        self._require("latents", "latent space to interpolate")
        if steps < 2:
            raise ValueError(f"steps must be >= 2 (the endpoints included), got {steps}")
        za, zb = self.latents(1, seed=a)[0], self.latents(1, seed=b)[0]
        return self.decode(slerp(za, zb, np.linspace(0.0, 1.0, steps)), **options)

    def encode(self, inputs: np.ndarray, seed: int = 0) -> np.ndarray:
        """The latent codes of ``inputs`` (autoencoders: a VAE's posterior means, an AAE's
        codes); ``decode(encode(x))`` is ``reconstruct(x)``.

        Args:
          inputs: a batch in the model's data format (images (N, H, W, C) in [-1, 1]).
          seed: the key of a family whose encoding is random (a Bernoulli VAE binarises
            its input).

        Raises:
          ValueError: a family without an encoder.
        """
        import jax

        self._require("encode", "encoder")
        fn = jax.jit(self._objective.encode_latents)
        return np.asarray(fn(self._state, self._batch(inputs), jax.random.PRNGKey(seed)))

    def log_prob(self, inputs: np.ndarray | dict[str, np.ndarray], seed: int = 0,
                 **options: Any) -> np.ndarray:
        """``log p(x)`` per example in nats, or the bound the family has (``log_prob_about``
        says which: a VAE's IWAE bound ``L_k``, the flow family's ODE log-likelihood).

        Args:
          inputs: a batch in the model's data format, or a dict batch (e.g. with the
            ``label`` of a class-conditional model).
          seed: the key (a VAE's binarisation and importance samples, a flow's
            dequantization and probes): the key ``genjax eval`` gives a test batch.
          **options: the family's ``log_prob_options`` (a VAE's ``k``).

        Raises:
          ValueError: a family without a likelihood.
          TypeError: an option this model does not take.
        """
        import functools

        import jax

        self._require("log_prob", "likelihood")
        names = tuple(o.name for o in self._objective.capabilities.log_prob_options)
        self._check_options(options, names, "log_prob")
        fn = jax.jit(functools.partial(self._objective.log_prob, **options))
        return np.asarray(fn(self._state, self._batch(inputs), jax.random.PRNGKey(seed)))

    @property
    def log_prob_about(self) -> str:
        """What ``log_prob`` returns ("" for a family without one)."""
        return self._objective.capabilities.log_prob_about

    @property
    def offers(self) -> tuple[str, ...]:
        """The methods beyond ``eval``/``save``/``export`` that this model's family declares."""
        return offers(self._objective.capabilities)

    def _require(self, ability: str, what: str) -> None:
        if not getattr(self._objective.capabilities, ability):
            raise ValueError(f"a {self.family!r} model has no {what}; it offers "
                             f"{', '.join(self.offers) or 'nothing beyond eval'}")

    def _check_options(self, options: dict[str, Any], names: tuple[str, ...],
                       method: str) -> None:
        unknown = sorted(set(options) - set(names))
        if unknown:
            raise TypeError(f"this {self.family!r} model's {method} does not take "
                            f"{', '.join(unknown)}; it takes {', '.join(names) or 'no options'}")

    def _batch(self, inputs: np.ndarray | dict[str, np.ndarray],
               key: str = "") -> dict[str, np.ndarray]:
        if isinstance(inputs, dict):
            return {k: np.asarray(v) for k, v in inputs.items()}
        return {key or self._objective.data_key: np.asarray(inputs, np.float32)}

    def eval(self, seed: int = 0, out: str | Path | None = None,
             **eval_keys: Any) -> dict[str, Any]:
        """Evaluates the run as ``genjax eval WORKDIR`` does (writes ``eval.json`` there, or
        ``out``) and returns the results.

        Args:
          seed: the evaluation seed.
          out: the JSON file to write (default ``WORKDIR/eval.json``).
          **eval_keys: ``eval.*`` keys to change, e.g. ``num_samples=2000``,
            ``metrics="fid,kid"``, ``inception_weights=PATH`` (``genjax configs NAME`` lists
            them).
        """
        from genjax.app.evaluate import evaluate_run

        if self.workdir.is_file():
            raise ValueError(f"{self.workdir} is an export (no dataset, no run folder): "
                             "evaluate the run folder it was exported from")
        overrides = [f"eval.{key}={_override_text(value)}" for key, value in eval_keys.items()]
        return evaluate_run(self.workdir, overrides, seed=seed, out=out)

    def export(self, out: str | Path) -> Path:
        """Writes this run as ``genjax export WORKDIR --out OUT`` does (the sampling network
        only, loadable with :func:`load` without the dataset) and returns ``out``."""
        from genjax.app.export import export_run

        if self.workdir.is_file():
            raise ValueError(f"{self.workdir} is an export already")
        export_run(self.workdir, out)
        return Path(out)

    def save(self, samples: np.ndarray, path: str | Path) -> Path:
        """Writes samples as ``genjax sample --out PATH`` would (``.png`` grid or scatter,
        ``.npz``; the formats of the data's modality)."""
        path = Path(path)
        self._modality.check_output(path)
        return self._modality.save(np.asarray(samples), path)
