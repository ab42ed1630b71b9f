"""Drawing many samples from an objective in fixed-size jitted chunks."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

import jax
import numpy as np

from genjax.core.objective import Objective
from genjax.core.state import TrainState

CHUNK = 256


def check_sample_options(objective: Objective, given: dict[str, Any], family: str
                         ) -> dict[str, Any]:
    """``given`` sampler options, if the objective declares every one
    (``capabilities.sample_options``).

    Raises:
      ValueError: an option this objective does not take (the message lists those it does).
    """
    takes = objective.capabilities.option_names()
    unknown = [name for name in given if name not in takes]
    if unknown:
        raise ValueError(
            f"this {family!r} model does not take --{', --'.join(unknown)}; its sampler takes "
            + (", ".join(f"--{t}" for t in takes) or "no options"))
    return dict(given)


def parse_sample_options(text: str, objective: Objective, family: str) -> dict[str, Any]:
    """Sampler options written as ``"sampler=dpm++,steps=10"`` (``eval.sample_options``),
    each typed as the objective declares it.

    Raises:
      ValueError: not ``NAME=VALUE`` pairs, an option the objective does not take, or a value
        of the wrong type.
    """
    declared = {o.name: o for o in objective.capabilities.sample_options}
    options: dict[str, Any] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise ValueError(f"sampler options are NAME=VALUE pairs separated by commas, e.g. "
                             f"'sampler=dpm++,steps=10'; got {item!r}")
        check_sample_options(objective, {name: value}, family)
        try:
            options[name] = declared[name].type(value.strip())
        except ValueError:
            raise ValueError(f"sampler option {name}={value.strip()!r} is not a "
                             f"{declared[name].type.__name__}") from None
    return options


def iter_samples(objective: Objective, state: TrainState, key: jax.Array, num: int,
                 chunk: int = CHUNK, options: dict[str, Any] | None = None
                 ) -> Iterator[np.ndarray]:
    """``num`` samples as consecutive host arrays of at most ``chunk`` rows; chunk ``i`` uses
    ``fold_in(key, i)``. Only one chunk is held at a time, so a writer that takes chunks
    (``Modality.save_chunks``) needs memory for one chunk, whatever ``num`` is.

    Args:
      objective: the family's objective.
      state: the trained state.
      key: the sampling key.
      num: how many samples.
      chunk: samples per device call (one compiled shape).
      options: keyword options of ``objective.sample`` (``label``, ``sampler``, ...), fixed at
        compile time; the objective declares them (``capabilities.sample_options``).

    Yields:
      NumPy arrays, images (n, H, W, C) in [-1, 1] or points (n, 2); ``num`` rows in all.
    """
    fn = jax.jit(functools.partial(objective.sample, **(options or {})), static_argnums=2)
    yield from iter_chunks(functools.partial(fn, state), key, num, chunk)


def iter_chunks(draw: Any, key: jax.Array, num: int, chunk: int = CHUNK
                ) -> Iterator[np.ndarray]:
    """``draw(key_i, size)`` for chunk ``i`` of :func:`iter_samples`'s chunks (key
    ``fold_in(key, i)``, ``size = min(chunk, num)``), cut to ``num`` rows in all: what
    ``iter_samples`` draws, for any function of the key that ``sample`` shares (e.g. an
    objective's ``prior_latents``)."""
    size = min(chunk, num)
    for i in range(-(-num // size)):
        yield np.asarray(draw(jax.random.fold_in(key, i), size))[:num - i * size]


def draw_samples(objective: Objective, state: TrainState, key: jax.Array, num: int,
                 chunk: int = CHUNK, options: dict[str, Any] | None = None) -> np.ndarray:
    """``num`` samples as one host array: :func:`iter_samples` concatenated (same numbers)."""
    return np.concatenate(list(iter_samples(objective, state, key, num, chunk, options)))


def host_memory_bytes() -> int | None:
    """The host's RAM (None when the platform does not say)."""
    import os

    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def max_samples(objective: Objective, state: TrainState, options: dict[str, Any] | None = None,
                available: int | None = None) -> int | None:
    """The most samples ``draw_samples`` can hold at once in half the host's memory (the
    float samples and the file writer's copy), or None when the memory is unknown."""
    fn = functools.partial(objective.sample, **(options or {}))
    shape = jax.eval_shape(lambda s, k: fn(s, k, 1), state, jax.random.PRNGKey(0))
    per_sample = 2 * int(np.prod(shape.shape[1:])) * np.dtype(shape.dtype).itemsize
    available = host_memory_bytes() if available is None else available
    if not available:
        return None
    return max(1, available // 2 // max(per_sample, 1))
