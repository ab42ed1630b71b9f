"""WaveNet train step time and generation speed: fast-WaveNet queues vs naive re-runs.

    python benchmarks/wavenet_speed.py [--config wavenet_digits] [--steps 3] \
        [--length 16000] [--naive-length 256] [--batch 1]

Builds the config's network exactly as ``genjax train`` does (``build_objective`` over the
config, on random clips of the dataset's shape; no data is read) and times, after compiling:

* one jitted ``train_step`` (ms, median of ``--steps``);
* sampling ``--length`` samples with the objective's ``sample`` (the fast-WaveNet algorithm:
  per-layer queues, one compiled ``lax.scan``);
* naive sampling of ``--naive-length`` samples (a jitted forward over the last receptive
  field's tokens for each new sample, the same draws), as the reference.

Prints one Markdown table: seconds of 16 kHz audio generated per wall second, and the same-run
ratio cached / naive.
"""

from __future__ import annotations

import argparse
import statistics
import time

import jax
import jax.numpy as jnp
import numpy as np


def _objective(name: str):
    from genjax.app.experiment import BuildContext
    from genjax.config import load_config
    from genjax.core.precision import precision_policy
    from genjax.data import DatasetSpec
    from genjax.families.wavenet.build import build
    from genjax.modalities import modalities

    config = load_config(name)
    spec = DatasetSpec(config.data.name, "audio", (16000,), 10, {"train": 1})
    context = BuildContext(modalities()["audio"], precision_policy(config.precision),
                           load_run=None)
    return config, build(config, spec, context)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--config", default="wavenet_digits")
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--length", type=int, default=16000)
    p.add_argument("--naive-length", type=int, default=256)
    p.add_argument("--batch", type=int, default=1)
    a = p.parse_args()
    config, objective = _objective(a.config)
    rng = np.random.default_rng(0)
    bs = config.train.batch_size
    batch = {"audio": rng.uniform(-0.5, 0.5, (bs, 16000)).astype(np.float32),
             "label": rng.integers(0, 10, bs).astype(np.int32)}
    state = objective.init(jax.random.key(0), batch)
    step = jax.jit(objective.train_step)
    jax.block_until_ready(step(state, batch, jax.random.key(0)))
    times = []
    for i in range(a.steps):
        t = time.perf_counter()
        jax.block_until_ready(step(state, batch, jax.random.key(i)))
        times.append(time.perf_counter() - t)
    step_ms = 1000 * statistics.median(times)

    key = jax.random.key(1)
    jax.block_until_ready(objective.sample(state, key, a.batch, length=a.length))
    t = time.perf_counter()
    jax.block_until_ready(objective.sample(state, key, a.batch, length=a.length))
    cached_s = time.perf_counter() - t

    from genjax.families.wavenet.mulaw import silence
    from genjax.families.wavenet.network import receptive_field

    model, rf = objective.model, receptive_field(objective.model.dilations)
    labels = jnp.zeros((a.batch,), jnp.int32)
    window = jax.jit(lambda s: model.apply({"params": state.params}, s, labels)[:, -1])
    seq = jnp.full((a.batch, rf), silence(model.levels), jnp.int32)
    jax.block_until_ready(window(seq))
    t = time.perf_counter()
    for i in range(a.naive_length):
        nxt = jax.random.categorical(jax.random.fold_in(key, i), window(seq))
        seq = jnp.concatenate([seq[:, 1:], nxt[:, None].astype(jnp.int32)], axis=1)
    jax.block_until_ready(seq)
    naive_s = time.perf_counter() - t

    rate = 16000.0
    cached = a.batch * a.length / rate / cached_s
    naive = a.batch * a.naive_length / rate / naive_s
    print(f"config {a.config}: {len(model.dilations)} layers, receptive field {rf}, "
          f"train batch {bs} x {objective.segment}; sampling batch {a.batch}; "
          f"{jax.devices()[0].platform}")
    print("| measurement | value |\n| --- | ---: |")
    print(f"| train step, ms (median of {a.steps}) | {step_ms:.0f} |")
    print(f"| cached scan: audio s per wall s ({a.length} samples) | {cached:.3f} |")
    print(f"| naive re-run: audio s per wall s ({a.naive_length} samples) | {naive:.4f} |")
    print(f"| cached / naive | {cached / naive:.1f}x |")


if __name__ == "__main__":
    main()
