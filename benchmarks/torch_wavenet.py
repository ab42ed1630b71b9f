"""The genjax WaveNet (genjax/families/wavenet/network.py) written in PyTorch, for the
benchmarks: the same layers (kernel-2 causal convolutions as a "now" and a "past" linear
map, gated tanh * sigmoid units, residual and skip paths, global label conditioning, the
relu-dense-relu-dense head to 256 mu-law levels), a teacher-forced Adam step, and
fast-WaveNet generation (per-layer queues) as a Python loop over time steps, the way a
PyTorch user writes it.

:func:`load_flax_params` copies a flax parameter tree into the module, so the benchmark checks
that both networks give the same logits before timing them.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


def shift(x: torch.Tensor, d: int) -> torch.Tensor:
    """``x[:, t - d]`` at ``t`` (zeros before the start), ``x`` ``(B, T, C)``."""
    if d >= x.shape[1]:
        return torch.zeros_like(x)
    return F.pad(x, (0, 0, d, 0))[:, :x.shape[1]]


class TorchWaveNet(nn.Module):
    def __init__(self, dilations: tuple[int, ...], residual: int, skip: int, levels: int = 256,
                 num_classes: int = 0):
        super().__init__()
        r = residual
        self.dilations, self.residual, self.levels = tuple(dilations), r, levels
        self.embed_now = nn.Parameter(torch.randn(levels, r))
        self.embed_past = nn.Parameter(torch.randn(levels, r))
        self.conv_now = nn.ModuleList(nn.Linear(r, 2 * r) for _ in dilations)
        self.conv_past = nn.ModuleList(nn.Linear(r, 2 * r, bias=False) for _ in dilations)
        self.res = nn.ModuleList(nn.Linear(r, r) for _ in dilations)
        self.skips = nn.ModuleList(nn.Linear(r, skip) for _ in dilations)
        self.cond = (nn.ModuleList(nn.Embedding(num_classes, 2 * r) for _ in dilations)
                     if num_classes else None)
        self.head = nn.Linear(skip, skip)
        self.logits = nn.Linear(skip, levels)

    def _layer(self, i, now, past, cond):
        z = self.conv_now[i](now) + self.conv_past[i](past)
        if cond is not None:
            z = z + cond
        g = torch.tanh(z[..., :self.residual]) * torch.sigmoid(z[..., self.residual:])
        return now + self.res[i](g), self.skips[i](g)

    def _cond(self, labels, i):
        return None if self.cond is None else self.cond[i](labels)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        h = self.embed_now[x] + shift(self.embed_past[x], 1)
        skips = 0.0
        for i, d in enumerate(self.dilations):
            cond = self._cond(labels, i)
            h, s = self._layer(i, h, shift(h, d), None if cond is None else cond[:, None])
            skips = skips + s
        return self.logits(F.relu(self.head(F.relu(skips))))

    @torch.no_grad()
    def generate(self, labels: torch.Tensor, length: int, generator: torch.Generator,
                 silence: int) -> torch.Tensor:
        """``length`` levels per row by the fast-WaveNet algorithm, one time step per
        Python iteration (queues of each layer's last ``d`` inputs)."""
        batch, r = labels.shape[0], self.residual
        past0 = torch.zeros(batch, r)
        queues = [torch.zeros(batch, d, r) for d in self.dilations]
        conds = [self._cond(labels, i) for i in range(len(self.dilations))]
        token = torch.full((batch,), silence, dtype=torch.long)
        out = torch.empty(batch, length, dtype=torch.long)
        for t in range(length):
            h = self.embed_now[token] + past0
            past0 = self.embed_past[token]
            skips = 0.0
            for i, d in enumerate(self.dilations):
                slot = t % d
                past = queues[i][:, slot].clone()
                queues[i][:, slot] = h
                h, s = self._layer(i, h, past, conds[i])
                skips = skips + s
            logits = self.logits(F.relu(self.head(F.relu(skips))))
            token = torch.multinomial(torch.softmax(logits, -1), 1, generator=generator)[:, 0]
            out[:, t] = token
        return out


def mu_law_encode(x: torch.Tensor, levels: int = 256) -> torch.Tensor:
    mu = levels - 1
    x = x.clamp(-1.0, 1.0)
    y = torch.sign(x) * torch.log1p(mu * x.abs()) / np.log1p(mu)
    return torch.floor((y + 1.0) * (mu / 2.0) + 0.5).long()


def train_step(model: TorchWaveNet, optimizer, audio: torch.Tensor, labels, segment: int,
               generator: torch.Generator) -> float:
    """One teacher-forced step on random crops of ``segment + 1`` samples (mu-law)."""
    starts = torch.randint(0, audio.shape[1] - segment, (audio.shape[0],), generator=generator)
    index = starts[:, None] + torch.arange(segment + 1)[None]
    tokens = mu_law_encode(torch.gather(audio, 1, index), model.levels)
    logits = model(tokens[:, :-1], labels if model.cond is not None else None)
    loss = F.cross_entropy(logits.reshape(-1, model.levels), tokens[:, 1:].reshape(-1))
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return float(loss.detach())


def load_flax_params(model: TorchWaveNet, params) -> None:
    """Copies a flax ``WaveNet`` parameter tree into ``model`` (Dense kernels transposed)."""
    def dense(layer, tree):
        layer.weight.copy_(torch.from_numpy(np.asarray(tree["kernel"]).T.copy()))
        if layer.bias is not None:
            layer.bias.copy_(torch.from_numpy(np.asarray(tree["bias"]).copy()))

    with torch.no_grad():
        model.embed_now.copy_(torch.from_numpy(np.asarray(params["embed_now"]).copy()))
        model.embed_past.copy_(torch.from_numpy(np.asarray(params["embed_past"]).copy()))
        for i in range(len(model.dilations)):
            dense(model.conv_now[i], params[f"conv_now_{i}"])
            dense(model.conv_past[i], params[f"conv_past_{i}"])
            dense(model.res[i], params[f"res_{i}"])
            dense(model.skips[i], params[f"skips_{i}"])
            if model.cond is not None:
                model.cond[i].weight.copy_(torch.from_numpy(
                    np.asarray(params[f"cond_{i}"]["embedding"]).copy()))
        dense(model.head, params["head"])
        dense(model.logits, params["logits"])


def num_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
