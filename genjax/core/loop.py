"""The one training loop. It knows the Objective protocol, never a family or a modality.

What a step's samples look like on disk is the caller's: ``train`` takes a
:class:`SampleWriter` (a ``genjax.modalities`` modality is one) and calls it at the sampling
boundaries; without one it writes no sample files.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol

import jax
import jax.numpy as jnp
import numpy as np

from genjax._version import __version__
from genjax.core.checkpoint import Checkpointer
from genjax.core.objective import Objective
from genjax.core.parallel import process_local
from genjax.core.reporting import MetricsLog, Progress, plot_losses, write_progress_gif
from genjax.core.state import TrainState
from genjax.core.step import make_train_step

log = logging.getLogger(__name__)

# Stream ids folded into the run's base key: each use of randomness gets its own stream.
INIT_STREAM, TRAIN_STREAM, SAMPLE_STREAM, EVAL_STREAM = 0, 1, 2, 3


RECON_COLUMNS = 8  # inputs shown in a reconstruction grid


class NonFiniteLossError(FloatingPointError):
    """A metric became NaN or Inf; the run stopped before saving the bad state."""

    def __init__(self, step: int, name: str, last_checkpoint: int | None):
        self.step, self.name, self.last_checkpoint = step, name, last_checkpoint
        kept = (f"the last good checkpoint (step {last_checkpoint}) is kept"
                if last_checkpoint is not None else "no checkpoint had been saved yet")
        super().__init__(
            f"metric '{name}' is not finite at step {step}; training stopped and {kept}. "
            "Lower the learning rate or check the data, then re-run to resume."
        )


class TrainingInterrupted(Exception):
    """A stop was requested (SIGTERM, SIGINT); the loop saved the state it stopped at.

    Attributes:
      signum: the signal that asked for the stop.
      step: the step the run stopped at (and saved, unless no step had run since the start).
      exit_code: ``128 + signum``, the conventional exit status of a process ended by it.
    """

    def __init__(self, signum: int, step: int, saved: bool = True):
        self.signum, self.step, self.exit_code = signum, step, 128 + signum
        kept = ("its checkpoint is saved" if saved
                else "no step had run, so there was nothing new to save")
        super().__init__(f"stopped by {signal_name(signum)} at step {step}; {kept}. Re-run the "
                         "same command to resume")


class StopRequest:
    """A flag a training loop polls between steps: once set, it saves and stops.

    Set it from a signal handler (:func:`stop_on_signals`) or from another thread
    (``request``). The loop checks it before every step, so a stop costs at most one step.
    """

    def __init__(self):
        self.signum: int | None = None

    def request(self, signum: int = signal.SIGTERM) -> None:
        """Asks the loop to stop; later requests change nothing."""
        if self.signum is None:
            self.signum = signum

    def __bool__(self) -> bool:
        return self.signum is not None


@contextlib.contextmanager
def stop_on_signals(signals: tuple[int, ...] = (signal.SIGINT, signal.SIGTERM)
                    ) -> Iterator[StopRequest]:
    """Turns ``signals`` into a :class:`StopRequest` for the duration of the block.

    The first signal asks the loop to stop after the current step and save a checkpoint
    (what SLURM and Kubernetes send on preemption is SIGTERM); further signals only print
    one reminder that the save is under way -- it is never cut short (SIGKILL still ends the
    process at once, leaving the previous checkpoint). The previous handlers are restored on
    exit. Outside the main thread (where Python cannot install handlers) nothing is
    installed and the request is never set by a signal.
    """
    stop = StopRequest()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return
    reminded = False

    def handler(signum, frame):
        nonlocal reminded
        if not stop:
            stop.request(signum)
            _say(f"genjax: received {signal_name(signum)}; stopping after the current "
                 "step to save a checkpoint\n")
        elif not reminded:
            reminded = True
            _say("genjax: still saving the checkpoint; the process ends once it is written "
                 "(SIGKILL ends it now, losing the steps since the previous one)\n")

    previous = {s: signal.signal(s, handler) for s in signals}
    try:
        yield stop
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


def signal_name(signum: int) -> str:
    """``"SIGTERM"`` for 15; ``"signal 99"`` for a number without a name."""
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


def _say(text: str) -> None:
    """Writes to stderr from a signal handler (no buffered stream: it may be mid-write)."""
    with contextlib.suppress(OSError):
        os.write(2, text.encode())


class SampleWriter(Protocol):
    """Writes what the loop shows of a model while it trains (a modality implements it)."""

    def write_samples(self, samples: np.ndarray, stem: Path) -> tuple[Path, ...]:
        """Writes ``samples`` to ``stem`` plus each of the writer's suffixes; the files."""
        ...

    def write_reconstructions(self, inputs: np.ndarray, outputs: np.ndarray,
                              stem: Path, sources: np.ndarray | None = None) -> Path:
        """Writes inputs beside their reconstructions to ``stem`` plus a suffix; with
        ``sources`` (a translation's inputs) those first, then the outputs, then ``inputs``
        (the targets)."""
        ...


@dataclasses.dataclass(frozen=True)
class LoopSettings:
    """How long to train and how often to log, sample, evaluate and checkpoint.

    Attributes:
      steps: train until ``state.step == steps``.
      log_every: steps between metric records (each the mean over the interval).
      checkpoint_every: steps between checkpoints (one is always written at the end).
      sample_every: steps between sample grids (0: only at the end).
      keep_checkpoints: how many of the newest checkpoints to keep.
      steps_per_call: K steps per device call through ``lax.scan`` (1: plain jit).
      eval_every: steps between held-out evaluations (0: never).
      num_samples: samples per grid (0: no sample grids, for models that do not sample;
        reconstruction grids of autoencoders are still written every ``sample_every``).
    """

    steps: int
    log_every: int = 50
    checkpoint_every: int = 500
    sample_every: int = 500
    keep_checkpoints: int = 3
    steps_per_call: int = 1
    eval_every: int = 0
    num_samples: int = 64

    def __post_init__(self):
        for name in ("steps", "log_every", "checkpoint_every", "keep_checkpoints",
                     "steps_per_call"):
            if getattr(self, name) < 1:
                raise ValueError(f"train.{name} must be >= 1, got {getattr(self, name)}")
        for name in ("sample_every", "eval_every", "num_samples"):
            if getattr(self, name) < 0:
                raise ValueError(f"train.{name} must be >= 0, got {getattr(self, name)}")

    def next_boundary(self, step: int) -> int:
        """The next step (> ``step``) at which the loop must stop to log, save or sample."""
        periods = [self.log_every, self.checkpoint_every, self.sample_every, self.eval_every]
        return min([self.steps] + [(step // p + 1) * p for p in periods if p > 0])


def run_keys(seed: int) -> dict[str, jax.Array]:
    """The base keys of a run, all derived from its seed."""
    base = jax.random.PRNGKey(seed)
    return {
        "init": jax.random.fold_in(base, INIT_STREAM),
        "train": jax.random.fold_in(base, TRAIN_STREAM),
        "sample": jax.random.fold_in(base, SAMPLE_STREAM),
        "eval": jax.random.fold_in(base, EVAL_STREAM),
    }


def init_state(objective: Objective, batches: Any, seed: int) -> TrainState:
    """A fresh state for ``objective``, shaped by the first batch of ``batches``."""
    return jax.jit(objective.init)(run_keys(seed)["init"], batches.batch(0))


def restore_or_init(
    objective: Objective, batches: Any, seed: int, checkpointer: Checkpointer
) -> tuple[TrainState, dict[str, Any] | None]:
    """The latest readable checkpoint's state and metadata, else a fresh state and None."""
    state = init_state(objective, batches, seed)
    restored = checkpointer.restore_latest(state)
    if restored is None:
        return state, None
    return restored


@jax.jit
def _all_finite(tree) -> jax.Array:
    """True when every floating-point leaf of ``tree`` is finite."""
    leaves = [jnp.all(jnp.isfinite(x)) for x in jax.tree.leaves(tree)
              if jnp.issubdtype(x.dtype, jnp.inexact)]
    return jnp.all(jnp.stack(leaves)) if leaves else jnp.bool_(True)


def _stack(batches: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    return {k: np.stack([b[k] for b in batches]) for k in batches[0]}


class _PendingMetrics:
    """Metrics of steps not yet logged; kept on device until a boundary, so steps stay async."""

    def __init__(self):
        self.device: list[tuple[int, int, dict[str, jax.Array]]] = []  # (first step, count, m)
        self.host: list[dict[str, float]] = []

    def add(self, first_step: int, count: int, metrics: dict[str, jax.Array]) -> None:
        self.device.append((first_step, count, metrics))

    def check(self) -> tuple[int, str] | None:
        """Moves metrics to the host; returns (step, name) of the first non-finite one."""
        fetched = jax.device_get([m for _, _, m in self.device])
        bad = None
        for (first, count, _), metrics in zip(self.device, fetched, strict=True):
            for i in range(count):
                row = {k: float(np.asarray(v).reshape(count)[i]) for k, v in metrics.items()}
                if bad is None:
                    name = next((k for k, v in row.items() if not math.isfinite(v)), None)
                    if name is not None:
                        bad = (first + i + 1, name)
                self.host.append(row)
        self.device = []
        return bad

    def mean_and_clear(self) -> dict[str, float]:
        rows, self.host = self.host, []
        return {k: float(np.mean([r[k] for r in rows])) for k in rows[0]} if rows else {}


def train(
    objective: Objective,
    batches: Any,
    workdir: str | Path,
    settings: LoopSettings,
    seed: int,
    *,
    eval_batches: Any = None,
    is_main_process: bool = True,
    make_step: Callable[..., Callable] = make_train_step,
    writer: SampleWriter | None = None,
    stop: StopRequest | None = None,
    on_start: Callable[[int], None] | None = None,
) -> TrainState:
    """Trains ``objective`` to ``settings.steps``, resuming from ``workdir`` if it has checkpoints.

    Writes ``checkpoints/``, ``metrics.jsonl``, ``tensorboard/`` and ``plots/losses.png``
    into ``workdir``, and with a ``writer`` ``samples/step_XXXXXXX.*`` (and
    ``samples/recon_step_XXXXXXX.*`` for an objective that declares ``reconstruct``); the
    ``.png`` ones also go to TensorBoard as images, and at the end ``samples/progress.gif``
    animates the ``.png`` sample grids. Every sample grid draws from the same key (the
    run's sample stream), so the grids differ only by the model's training.
    Step ``i`` uses batch ``i`` of ``batches`` and
    key ``fold_in(train_key, i)``, so a resumed run continues exactly as if never stopped.

    Args:
      objective: the family's objective.
      batches: a ``genjax.data.Batches`` (anything with ``batch(index)``).
      workdir: the run folder.
      settings: steps and cadences.
      seed: the run's seed.
      eval_batches: held-out batches for ``objective.eval_metrics`` every ``eval_every`` steps.
      is_main_process: only the main process writes logs, samples and plots (every process
        of a multi-host run calls ``train``; all take part in steps and checkpoints).
      make_step: builds the jitted step (``make_train_step`` or a data-parallel variant from
        ``genjax.core.parallel``, whose states are replicated over devices; samples and
        evaluations use this process's copy, ``process_local``).
      writer: writes sample (and reconstruction) files; usually the data's modality.
      stop: polled before every step; once set, the loop saves the current state and raises
        ``TrainingInterrupted`` (see :func:`stop_on_signals`). On several processes it is
        polled at the logging/saving boundaries, where all processes agree on it.
      on_start: called with the start step once the state is restored (every checkpoint
        check passed) or freshly initialized, before the loop writes anything; e.g. to
        write the run's config only when the run can really start.

    Returns:
      The final state.

    Raises:
      NonFiniteLossError: a metric became NaN/Inf; nothing after the last good checkpoint is saved.
      TrainingInterrupted: ``stop`` was set; the state of the step reached is saved.
      CheckpointError: the workdir's checkpoints cannot be used (see ``Checkpointer``).
    """
    workdir = Path(workdir)
    keys = run_keys(seed)
    checkpointer = Checkpointer(workdir / "checkpoints", keep=settings.keep_checkpoints)
    metrics_log = progress = None
    try:
        state, meta = restore_or_init(objective, batches, seed, checkpointer)
        start = int(jax.device_get(state.step))  # also the data position: batch i at step i
        if meta is not None and start < settings.steps:
            log.info("resuming from step %d", start)
        if on_start is not None:
            on_start(start)
        metrics_log = MetricsLog(workdir, enabled=is_main_process, resume_step=start)
        progress = Progress(settings.steps, start, enabled=is_main_process)
        state = _train_from(objective, batches, workdir, settings, seed, keys, state,
                            checkpointer, metrics_log, progress, eval_batches,
                            is_main_process, make_step, writer, stop)
    finally:
        checkpointer.close()
        if progress is not None:
            progress.close()
        if metrics_log is not None:
            metrics_log.close()
    if is_main_process:
        plot_losses(metrics_log.path, workdir / "plots" / "losses.png")
        write_progress_gif(workdir / "samples", workdir / "samples" / "progress.gif")
    return state


def _train_from(objective, batches, workdir, settings, seed, keys, state, checkpointer,
                metrics_log, progress, eval_batches, is_main_process, make_step,
                writer, stop) -> TrainState:
    """The body of ``train`` from a restored or fresh state (see ``train``)."""
    abilities = objective.capabilities

    step_fns = {1: make_step(objective, steps_per_call=1)}
    k = settings.steps_per_call
    if k > 1:
        step_fns[k] = make_step(objective, steps_per_call=k)
    draws = writer is not None and abilities.sample and settings.num_samples > 0
    sample_fn = jax.jit(objective.sample, static_argnums=2) if draws else None
    eval_fn = jax.jit(objective.eval_metrics)
    recon_fn = (jax.jit(objective.reconstruct)
                if writer is not None and abilities.reconstruct else None)
    recon_batches = eval_batches if eval_batches is not None else batches
    pending = _PendingMetrics()
    saved = checkpointer.steps()
    last_saved = saved[-1] if saved else None

    def save(state: TrainState) -> None:
        nonlocal last_saved
        step = int(jax.device_get(state.step))
        if not bool(_all_finite(state)):  # finite losses can still precede a bad update
            raise NonFiniteLossError(step, "the parameters or optimizer state", last_saved)
        checkpointer.save(state, {"seed": seed, "data_position": step,
                                  "genjax_version": __version__})
        last_saved = step

    def check_finite() -> None:
        bad = pending.check()
        if bad is not None:
            metrics_log.write(bad[0], pending.mean_and_clear())  # the interval that diverged
            raise NonFiniteLossError(bad[0], bad[1], last_saved)

    def stop_requested(at_boundary: bool) -> bool:
        if stop is None:
            return False
        if jax.process_count() == 1:
            return bool(stop)
        if not at_boundary:  # all processes must stop at the same step
            return False
        from jax.experimental import multihost_utils

        return bool(np.any(multihost_utils.process_allgather(np.int32(bool(stop)))))

    def stop_here(step: int, start: int) -> None:
        """Logs the steps since the last record, saves, and raises TrainingInterrupted."""
        check_finite()
        if pending.host:
            now = time.perf_counter()
            record = pending.mean_and_clear()
            record["steps_per_sec"] = (step - s_log) / max(now - t_log, 1e-9)
            metrics_log.write(step, record)
        if step > start:
            save(state)
        raise TrainingInterrupted(stop.signum or signal.SIGTERM, step, last_saved == step)

    step = start = int(jax.device_get(state.step))
    t_log, s_log = time.perf_counter(), step
    try:
        while step < settings.steps:
            boundary = settings.next_boundary(step)
            while step < boundary:
                if stop_requested(at_boundary=False):
                    stop_here(step, start)
                n = k if boundary - step >= k else 1
                batch = (batches.batch(step) if n == 1
                         else _stack([batches.batch(i) for i in range(step, step + n)]))
                state, metrics = step_fns[n](state, batch, keys["train"])
                pending.add(step, n, metrics)
                step += n
            check_finite()
            if step % settings.log_every == 0 or step == settings.steps:
                jax.block_until_ready(state)
                now = time.perf_counter()
                record = pending.mean_and_clear()
                record["steps_per_sec"] = (step - s_log) / max(now - t_log, 1e-9)
                t_log, s_log = now, step
                metrics_log.write(step, record)
                progress.update(step, record)
            if settings.eval_every and eval_batches is not None and (
                step % settings.eval_every == 0 or step == settings.steps
            ):
                ev = evaluate(eval_fn, process_local(state), eval_batches,
                              jax.random.fold_in(keys["eval"], step))
                metrics_log.write(step, {f"eval_{name}": v for name, v in ev.items()})
            if is_main_process and (sample_fn or recon_fn) and (
                (settings.sample_every and step % settings.sample_every == 0)
                or step == settings.steps
            ):
                local = process_local(state)
                if sample_fn is not None:
                    # one key for every grid: the same noise, so grids (and progress.gif)
                    # show the model changing, not the draw
                    samples = sample_fn(local, keys["sample"], settings.num_samples)
                    for written in writer.write_samples(
                            np.asarray(samples), workdir / "samples" / f"step_{step:07d}"):
                        metrics_log.write_sample_file("samples", written, step)
                if recon_fn is not None:
                    inputs = recon_inputs(recon_batches, RECON_COLUMNS)
                    recon = recon_fn(local, inputs, jax.random.fold_in(keys["sample"], step))
                    sources = ({"sources": inputs[abilities.reconstruct_from]}
                               if abilities.translates else {})
                    written = writer.write_reconstructions(
                        inputs[objective.data_key], np.asarray(recon),
                        workdir / "samples" / f"recon_step_{step:07d}", **sources)
                    metrics_log.write_sample_file("reconstructions", written, step)
            if step % settings.checkpoint_every == 0 or step == settings.steps:
                save(state)
            checkpointer.seal_finished()  # checksums of the saves finished in the background
            if step < settings.steps and stop_requested(at_boundary=True):
                stop_here(step, start)
    except KeyboardInterrupt:
        try:
            if pending.check() is None:
                save(state)
                log.warning("interrupted at step %d; saved a checkpoint to resume from",
                            int(state.step))
        except Exception:  # the state may be mid-update; the last periodic checkpoint stands
            log.warning("interrupted; resume from the last checkpoint (step %s)", last_saved)
        raise
    return state


def recon_inputs(batches: Any, count: int) -> dict[str, np.ndarray]:
    """``count`` examples spread over one epoch (the first row of evenly spaced batches), so a
    reconstruction grid shows every class even of a split stored sorted by class."""
    picks = np.linspace(0, batches.steps_per_epoch - 1, count).round().astype(int)
    rows = [{k: v[:1] for k, v in batches.batch(int(i)).items()} for i in picks]
    return {k: np.concatenate([r[k] for r in rows]) for k in rows[0]}


def evaluate(eval_fn: Callable, state: TrainState, eval_batches: Any, key: jax.Array,
             max_batches: int | None = None) -> dict[str, float]:
    """Mean of ``eval_fn(state, batch, key_i)`` over one pass of held-out batches.

    Args:
      eval_fn: jitted ``objective.eval_metrics``.
      state: the state to evaluate.
      eval_batches: held-out ``Batches`` (unshuffled).
      key: base key; batch i uses ``fold_in(key, i)``.
      max_batches: cap on the number of batches (default: one epoch).

    Returns:
      Metric means, weighted equally per batch.
    """
    n = eval_batches.steps_per_epoch if max_batches is None else min(
        max_batches, eval_batches.steps_per_epoch)
    rows = [eval_fn(state, eval_batches.batch(i), jax.random.fold_in(key, i)) for i in range(n)]
    rows = jax.device_get(rows)
    return {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}
