"""WaveNet train step time and generation speed: fast-WaveNet queues vs naive re-runs, and
the same network in PyTorch eager (``--torch``).

    python benchmarks/wavenet_speed.py [--config wavenet_digits] [--steps 3] \
        [--length 16000] [--naive-length 256] [--batch 1] [--torch] [--torch-length 2000] \
        [--threads 2] [--set model.blocks=1 ...]

Builds the config's network exactly as ``genjax train`` does (``build_objective`` over the
config, on random clips of the dataset's shape; no data is read) and times, after compiling:

* one jitted ``train_step`` (ms, median of ``--steps``);
* sampling ``--length`` samples with the objective's ``sample`` (the fast-WaveNet algorithm:
  per-layer queues, one compiled ``lax.scan``);
* naive sampling of ``--naive-length`` samples (a jitted forward over the last receptive
  field's tokens for each new sample, the same draws), as the reference.

With ``--torch``, the same network in PyTorch (``torch_wavenet.py``: parameter count
asserted equal, the flax parameters copied in and the logits checked equal) is timed in the
same run: its Adam step on the same batch shapes (crops drawn and mu-law encoded inside, as
genjax's step does) and its fast-WaveNet generation as a Python loop over time steps
(``--torch-length`` samples; the rate is per sample, so fewer suffice); PyTorch uses
``--threads`` intra-op threads (XLA:CPU uses every core).

Prints one Markdown table: seconds of 16 kHz audio generated per wall second, and the same-run
ratios (cached / naive; genjax / PyTorch for the step time, genjax / PyTorch for generation).
"""

from __future__ import annotations

import argparse
import statistics
import time

import jax
import jax.numpy as jnp
import numpy as np


def _objective(name: str, overrides: list[str]):
    from genjax.app.experiment import BuildContext
    from genjax.config import apply_overrides, load_config
    from genjax.core.precision import precision_policy
    from genjax.data import DatasetSpec
    from genjax.families.wavenet.build import build
    from genjax.modalities import modalities

    config = load_config(name)
    apply_overrides(config, overrides)
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
    p.add_argument("--torch", action="store_true", help="also time the PyTorch network")
    p.add_argument("--torch-length", type=int, default=2000)
    p.add_argument("--threads", type=int, default=2, help="PyTorch intra-op threads")
    p.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE",
                   help="config overrides, e.g. model.blocks=1 data.segment=2000")
    a = p.parse_args()
    config, objective = _objective(a.config, a.set)
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
    rows = [(f"train step, ms (median of {a.steps})", f"{step_ms:.0f}"),
            (f"cached scan: audio s per wall s ({a.length} samples)", f"{cached:.3f}"),
            (f"naive re-run: audio s per wall s ({a.naive_length} samples)", f"{naive:.4f}"),
            ("cached / naive", f"{cached / naive:.1f}x")]
    if a.torch:
        torch_ms, torch_rate, count = _torch(a, objective, state, batch)
        rows += [(f"PyTorch eager train step, ms (median of {a.steps}, {a.threads} threads)",
                  f"{torch_ms:.0f}"),
                 ("train step genjax / PyTorch (target <= 0.8x)", f"{step_ms / torch_ms:.2f}x"),
                 (f"PyTorch fast-WaveNet loop: audio s per wall s ({a.torch_length} samples)",
                  f"{torch_rate:.4f}"),
                 ("generation genjax cached scan / PyTorch loop (target >= 2x)",
                  f"{cached / torch_rate:.1f}x")]
    print(f"config {a.config} {' '.join(a.set)}: {len(model.dilations)} layers, receptive "
          f"field {rf}, train batch {bs} x {objective.segment}; sampling batch {a.batch}; "
          f"{jax.devices()[0].platform}" + (f"; {count:,} parameters in both" if a.torch else ""))
    print("| measurement | value |\n| --- | ---: |")
    for name, value in rows:
        print(f"| {name} | {value} |")


def _torch(a, objective, state, batch):
    """PyTorch step ms, generation rate (audio s per wall s) and the parameter count."""
    import torch
    from torch_wavenet import TorchWaveNet, load_flax_params, num_params, train_step

    from genjax.families.wavenet.mulaw import silence

    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = objective.model
    net = TorchWaveNet(model.dilations, model.residual, model.skip, model.levels,
                       model.num_classes)
    count = sum(int(np.prod(x.shape)) for x in jax.tree.leaves(state.params))
    assert num_params(net) == count, (num_params(net), count)
    load_flax_params(net, state.params)
    tokens = np.random.default_rng(2).integers(0, model.levels, (2, 300))
    labels = np.array([3, 7], np.int32)
    want = model.apply({"params": state.params}, jnp.asarray(tokens, jnp.int32),
                       jnp.asarray(labels) if model.num_classes else None)
    with torch.no_grad():
        got = net(torch.from_numpy(tokens), torch.from_numpy(labels).long())
    np.testing.assert_allclose(got.numpy(), np.asarray(want), rtol=2e-3, atol=2e-3)

    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    audio = torch.from_numpy(batch["audio"])
    lab = torch.from_numpy(batch["label"]).long()
    gen = torch.Generator().manual_seed(0)
    train_step(net, optimizer, audio, lab, objective.segment, gen)  # warm-up
    times = []
    for _ in range(a.steps):
        t = time.perf_counter()
        train_step(net, optimizer, audio, lab, objective.segment, gen)
        times.append(time.perf_counter() - t)
    labels = torch.zeros(a.batch, dtype=torch.long)
    net.generate(labels, 50, gen, silence(model.levels))  # warm-up
    t = time.perf_counter()
    net.generate(labels, a.torch_length, gen, silence(model.levels))
    seconds = time.perf_counter() - t
    return (1000 * statistics.median(times), a.batch * a.torch_length / 16000.0 / seconds,
            count)


if __name__ == "__main__":
    main()
