"""Same-work anchor for the ``gpt`` family: the same Transformer in PyTorch (nanoGPT style).

    python -m pip install -e ".[bench]"      # torch==2.13.0, a local CPU build here
    python benchmarks/lm_anchor.py [--config gpt_kjv] [--steps 300] [--threads 2]

Both sides train the ``--config`` model (default ``gpt_kjv``) for ``--steps`` steps in this
one process, one after the other, on the same batches (``genjax.data.Batches`` windows of
the kjv train split, step ``i`` = batch ``i``), with the same network (pre-LayerNorm, tanh
GELU, LayerNorm eps 1e-6, learned positions, tied embeddings; parameter counts asserted
equal), the same initialisation scheme (normal 0.02, residual projections 0.02 /
sqrt(2 layers), zero biases), and the same optimizer (AdamW, weight decay on tensors of
rank >= 2, linear warmup + cosine decay, global-norm clipping). Printed, as one Markdown
table with genjax / torch ratios:

* ms/step: median over the steps after the first 10 (genjax: the jitted ``train_step``,
  compile excluded; torch: eager);
* test bits per byte over the whole kjv test split (consecutive windows, as ``genjax eval``);
* sampling tokens/s for ``--sample-num`` sequences of ``--sample-length`` new bytes after a
  newline: genjax's compiled ``lax.scan`` with its KV cache (compile excluded) against
  nanoGPT's ``generate`` loop (the full window recomputed per token, eager), and against the
  same loop in PyTorch with a KV cache.
"""

from __future__ import annotations

import argparse
import math
import platform
import time

import numpy as np


def genjax_side(config, steps: int, sample_num: int, sample_length: int) -> dict:
    import jax

    from genjax.app.evaluate import iterate_split
    from genjax.app.experiment import build
    from genjax.data import load_source
    from genjax.modalities import modality_of

    exp = build(config, with_eval=False)
    obj, batches = exp.objective, exp.train_batches
    state = obj.init(jax.random.PRNGKey(config.seed), batches.batch(0))
    n_params = sum(int(np.prod(p.shape)) for p in jax.tree.leaves(state.params))
    step = jax.jit(obj.train_step, donate_argnums=0)
    key = jax.random.PRNGKey(1)
    times, losses = [], []
    for i in range(steps):
        batch = batches.batch(i)
        start = time.perf_counter()
        state, metrics = step(state, batch, jax.random.fold_in(key, i))
        jax.block_until_ready(metrics)
        times.append(time.perf_counter() - start)
        losses.append(float(metrics["loss"]))
    modality = modality_of(exp.spec)
    test = modality.examples(load_source(config.data.name, "test", config.data.data_dir or None),
                             exp.spec, config.data.context, train=False)
    evaluate = jax.jit(obj.eval_metrics)
    total, count = 0.0, 0
    for batch in iterate_split(test, 256, modality.transform(exp.spec)):
        n = len(batch["text"])
        total += float(evaluate(state, batch, key)["loss"]) * n
        count += n
    sample = jax.jit(lambda s, k: obj.sample(s, k, sample_num, prompt="\n",
                                             length=sample_length))
    jax.block_until_ready(sample(state, key))  # compile
    start = time.perf_counter()
    jax.block_until_ready(sample(state, jax.random.PRNGKey(2)))
    sample_s = time.perf_counter() - start
    return {"params": n_params, "ms_step": 1e3 * float(np.median(times[10:])),
            "first_loss": losses[0], "last_loss": float(np.mean(losses[-10:])),
            "test_bpb": total / count / math.log(2),
            "tok_s": sample_num * sample_length / sample_s,
            "test_windows": count}


def torch_model(config):
    import torch
    from torch import nn
    from torch.nn import functional as F

    m, context = config.model, config.data.context
    d, n_layers, heads = m.features, m.num_layers, m.num_heads

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln1 = nn.LayerNorm(d, eps=1e-6)
            self.qkv = nn.Linear(d, 3 * d)
            self.proj = nn.Linear(d, d)
            self.ln2 = nn.LayerNorm(d, eps=1e-6)
            self.fc = nn.Linear(d, m.mlp_ratio * d)
            self.fc_out = nn.Linear(m.mlp_ratio * d, d)

        def forward(self, x, cache=None, pos=None):
            b, t, _ = x.shape
            q, k, v = self.qkv(self.ln1(x)).view(b, t, 3, heads, d // heads).unbind(2)
            q, k, v = (z.transpose(1, 2) for z in (q, k, v))  # (B, H, T, Dh)
            if cache is None:
                att = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            else:
                cache[0][:, :, pos:pos + 1] = k
                cache[1][:, :, pos:pos + 1] = v
                att = F.scaled_dot_product_attention(q, cache[0][:, :, :pos + 1],
                                                     cache[1][:, :, :pos + 1])
            x = x + self.proj(att.transpose(1, 2).reshape(b, t, d))
            return x + self.fc_out(F.gelu(self.fc(self.ln2(x)), approximate="tanh"))

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.wte = nn.Embedding(256, d)
            self.wpe = nn.Embedding(context, d)
            self.blocks = nn.ModuleList(Block() for _ in range(n_layers))
            self.ln_f = nn.LayerNorm(d, eps=1e-6)
            for name, p in self.named_parameters():
                if name.endswith("bias"):
                    nn.init.zeros_(p)
                elif p.dim() >= 2:
                    std = 0.02 / math.sqrt(2 * n_layers) if name.endswith(
                        ("proj.weight", "fc_out.weight")) else 0.02
                    nn.init.normal_(p, std=std)

        def forward(self, idx, caches=None, pos=None):
            t = idx.shape[1]
            positions = torch.arange(t) if caches is None else torch.tensor([pos])
            h = self.wte(idx) + self.wpe(positions)[None]
            for i, block in enumerate(self.blocks):
                h = block(h, None if caches is None else caches[i], pos)
            return self.ln_f(h) @ self.wte.weight.T  # tied output

    return GPT()


def torch_side(config, batches, test_windows: np.ndarray, steps: int, sample_num: int,
               sample_length: int) -> dict:
    import torch
    from torch.nn import functional as F

    torch.manual_seed(config.seed)
    model = torch_model(config)
    o = config.optim
    decay = [p for p in model.parameters() if p.dim() >= 2]
    rest = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": o.weight_decay},
                             {"params": rest, "weight_decay": 0.0}],
                            lr=o.lr, betas=(o.b1, o.b2), eps=1e-8)
    total_steps = o.decay_steps or config.train.steps
    end = o.lr * o.min_lr_ratio

    def lr_at(t: int) -> float:  # optax.warmup_cosine_decay_schedule, as a factor of lr
        if t < o.warmup_steps:
            return t / o.warmup_steps
        frac = min(1.0, (t - o.warmup_steps) / (total_steps - o.warmup_steps))
        return (end + (o.lr - end) * 0.5 * (1 + math.cos(math.pi * frac))) / o.lr

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_at)
    times, losses = [], []
    model.train()
    for i in range(steps):
        tokens = torch.from_numpy(batches.batch(i)["text"].astype(np.int64))
        start = time.perf_counter()
        logits = model(tokens[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, 256), tokens[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), o.grad_clip)
        opt.step()
        sched.step()
        times.append(time.perf_counter() - start)
        losses.append(loss.item())
    model.eval()
    total = 0.0
    with torch.no_grad():
        for s in range(0, len(test_windows), 256):
            tokens = torch.from_numpy(test_windows[s:s + 256].astype(np.int64))
            logits = model(tokens[:, :-1])
            total += float(F.cross_entropy(logits.reshape(-1, 256), tokens[:, 1:].reshape(-1),
                                           reduction="sum"))
    test_bpb = total / (test_windows.shape[0] * (test_windows.shape[1] - 1)) / math.log(2)
    context = config.data.context
    with torch.no_grad():  # nanoGPT's generate: the window recomputed for every token
        idx = torch.full((sample_num, 1), 10, dtype=torch.long)
        start = time.perf_counter()
        for _ in range(sample_length):
            logits = model(idx[:, -context:])[:, -1]
            idx = torch.cat([idx, torch.multinomial(F.softmax(logits, -1), 1)], 1)
        loop_s = time.perf_counter() - start
        m = config.model  # the same loop with a KV cache
        shape = (sample_num, m.num_heads, context, m.features // m.num_heads)
        caches = [(torch.zeros(shape), torch.zeros(shape)) for _ in range(m.num_layers)]
        token = torch.full((sample_num, 1), 10, dtype=torch.long)
        start = time.perf_counter()
        for pos in range(sample_length):
            logits = model(token, caches, pos)[:, -1]
            token = torch.multinomial(F.softmax(logits, -1), 1)
        cache_s = time.perf_counter() - start
    return {"params": sum(p.numel() for p in model.parameters()),
            "ms_step": 1e3 * float(np.median(times[10:])), "first_loss": losses[0],
            "last_loss": float(np.mean(losses[-10:])), "test_bpb": test_bpb,
            "tok_s": sample_num * sample_length / loop_s,
            "tok_s_cache": sample_num * sample_length / cache_s}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="gpt_kjv")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--threads", type=int, default=2, help="torch intra-op threads")
    parser.add_argument("--sample-num", type=int, default=4)
    parser.add_argument("--sample-length", type=int, default=62)
    args = parser.parse_args()

    import torch

    from genjax.app.evaluate import iterate_split
    from genjax.app.experiment import build
    from genjax.config import load_config
    from genjax.data import load_source
    from genjax.modalities import modality_of

    torch.set_num_threads(args.threads)
    config = load_config(args.config)
    config.train.steps = args.steps  # the cosine decay spans the benchmark's steps
    if config.optim.warmup_steps >= args.steps:  # a short timing run: warm up 10% of it
        config.optim.warmup_steps = args.steps // 10
    ours = genjax_side(config, args.steps, args.sample_num, args.sample_length)
    exp = build(config, with_eval=False)
    modality = modality_of(exp.spec)
    test = modality.examples(load_source(config.data.name, "test", config.data.data_dir or None),
                             exp.spec, config.data.context, train=False)
    windows = np.concatenate([b["text"] for b in iterate_split(test, 4096, None)])
    theirs = torch_side(config, exp.train_batches, windows, args.steps, args.sample_num,
                        args.sample_length)
    assert ours["params"] == theirs["params"], (ours["params"], theirs["params"])
    print(f"{args.config}, {args.steps} steps, batch {config.train.batch_size} x "
          f"{config.data.context} bytes, {ours['params']:,} parameters, test windows "
          f"{ours['test_windows']}; {platform.processor() or platform.machine()}, torch "
          f"{torch.__version__} ({args.threads} threads)\n")
    print("| | genjax | torch | genjax / torch |\n| --- | ---: | ---: | ---: |")
    print(f"| ms/step | {ours['ms_step']:.1f} | {theirs['ms_step']:.1f} | "
          f"{ours['ms_step'] / theirs['ms_step']:.2f} |")
    print(f"| train loss, first step (nats) | {ours['first_loss']:.3f} | "
          f"{theirs['first_loss']:.3f} | |")
    print(f"| train loss, last 10 steps (nats) | {ours['last_loss']:.3f} | "
          f"{theirs['last_loss']:.3f} | |")
    print(f"| test bits per byte | {ours['test_bpb']:.3f} | {theirs['test_bpb']:.3f} | "
          f"{ours['test_bpb'] - theirs['test_bpb']:+.3f} (difference) |")
    print(f"| sampling tokens/s (torch: nanoGPT loop) | {ours['tok_s']:.0f} | "
          f"{theirs['tok_s']:.0f} | {ours['tok_s'] / theirs['tok_s']:.2f} |")
    print(f"| sampling tokens/s (torch: loop with KV cache) | {ours['tok_s']:.0f} | "
          f"{theirs['tok_s_cache']:.0f} | {ours['tok_s'] / theirs['tok_s_cache']:.2f} |")


if __name__ == "__main__":
    main()
