"""The genjax DDPM UNet (genjax/nn/unet.py) written in PyTorch, NCHW, for the benchmarks.

Modules are created in the same order as the flax module creates its parameters, so
:func:`load_flax_params` copies a flax parameter tree into it leaf by leaf; the benchmarks
check that both networks then give the same output before timing them.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

GN_EPS = 1e-6


def timestep_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    half = dim // 2
    freqs = torch.exp(-math.log(10_000.0) * torch.arange(half, dtype=torch.float32) / half)
    args = t.float()[:, None] * freqs[None]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)


def _gn(c: int, groups: int) -> nn.GroupNorm:
    return nn.GroupNorm(min(groups, c), c, eps=GN_EPS)


class ResBlock(nn.Module):
    def __init__(self, cin: int, cout: int, temb: int, dropout: float, groups: int):
        super().__init__()
        self.norm1 = _gn(cin, groups)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.temb = nn.Linear(temb, cout)
        self.norm2 = _gn(cout, groups)
        self.dropout = nn.Dropout(dropout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else None

    def forward(self, x, temb):
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.temb(F.silu(temb))[:, :, None, None]
        h = self.conv2(self.dropout(F.silu(self.norm2(h))))
        return (self.skip(x) if self.skip is not None else x) + h


class Attention(nn.Module):
    def __init__(self, c: int, groups: int):
        super().__init__()
        self.norm = _gn(c, groups)
        self.qkv = nn.Linear(c, 3 * c)
        self.proj = nn.Linear(c, c)

    def forward(self, x):
        b, c, hgt, wid = x.shape
        h = self.norm(x).permute(0, 2, 3, 1).reshape(b, hgt * wid, c)
        q, k, v = self.qkv(h).chunk(3, dim=-1)
        w = torch.softmax(torch.bmm(q, k.transpose(1, 2)) * c ** -0.5, dim=-1)
        h = self.proj(torch.bmm(w, v)).reshape(b, hgt, wid, c).permute(0, 3, 1, 2)
        return x + h


class UNet(nn.Module):
    """Same fields and layout as genjax.nn.unet.UNet (unconditional)."""

    def __init__(self, in_ch=3, ch=128, ch_mult=(1, 2, 2, 2), num_res_blocks=2,
                 attn_resolutions=(16,), dropout=0.1, norm_groups=32, resolution=32):
        super().__init__()
        self.ch, self.ch_mult, self.nrb = ch, ch_mult, num_res_blocks
        temb = 4 * ch
        self.temb1, self.temb2 = nn.Linear(ch, temb), nn.Linear(temb, temb)
        self.conv_in = nn.Conv2d(in_ch, ch, 3, padding=1)
        self.down = nn.ModuleList()
        chans, c, res = [ch], ch, resolution
        last = len(ch_mult) - 1
        for level, mult in enumerate(ch_mult):
            for _ in range(num_res_blocks):
                self.down.append(ResBlock(c, ch * mult, temb, dropout, norm_groups))
                c = ch * mult
                if res in attn_resolutions:
                    self.down.append(Attention(c, norm_groups))
                chans.append(c)
            if level != last:
                self.down.append(nn.Conv2d(c, c, 3, stride=2, padding=1))
                res //= 2
                chans.append(c)
        self.mid = nn.ModuleList([ResBlock(c, c, temb, dropout, norm_groups),
                                  Attention(c, norm_groups),
                                  ResBlock(c, c, temb, dropout, norm_groups)])
        self.up = nn.ModuleList()
        for level, mult in reversed(list(enumerate(ch_mult))):
            for _ in range(num_res_blocks + 1):
                self.up.append(ResBlock(c + chans.pop(), ch * mult, temb, dropout, norm_groups))
                c = ch * mult
                if res in attn_resolutions:
                    self.up.append(Attention(c, norm_groups))
            if level != 0:
                self.up.append(nn.Upsample(scale_factor=2, mode="nearest"))
                self.up.append(nn.Conv2d(c, c, 3, padding=1))
                res *= 2
        self.norm_out = _gn(c, norm_groups)
        self.conv_out = nn.Conv2d(c, in_ch, 3, padding=1)

    def forward(self, x, t):
        temb = self.temb2(F.silu(self.temb1(timestep_embedding(t, self.ch))))
        h = self.conv_in(x)
        hs = [h]
        for m in self.down:
            if isinstance(m, ResBlock):
                h = m(h, temb)
                hs.append(h)
            elif isinstance(m, Attention):
                h = m(h)
                hs[-1] = h
            else:
                h = m(h)
                hs.append(h)
        for m in self.mid:
            h = m(h, temb) if isinstance(m, ResBlock) else m(h)
        for m in self.up:
            if isinstance(m, ResBlock):
                h = m(torch.cat([h, hs.pop()], dim=1), temb)
            else:
                h = m(h)
        return self.conv_out(F.silu(self.norm_out(h)))


def _named_modules_flax_style(model: UNet) -> list[tuple[tuple[str, ...], nn.Module]]:
    """(flax path, torch module) pairs: flax names children ``Type_k`` in creation order."""
    out = []

    def name(counts, kind):
        counts[kind] = counts.get(kind, -1) + 1
        return f"{kind}_{counts[kind]}"

    top: dict[str, int] = {}
    out += [((name(top, "Dense"),), model.temb1), ((name(top, "Dense"),), model.temb2),
            ((name(top, "Conv"),), model.conv_in)]
    for m in list(model.down) + list(model.mid) + list(model.up):
        if isinstance(m, ResBlock):
            blk, inner = name(top, "ResBlock"), {}
            subs = [("GroupNorm", m.norm1), ("Conv", m.conv1), ("Dense", m.temb),
                    ("GroupNorm", m.norm2), ("Conv", m.conv2)]
            subs += [("Conv", m.skip)] if m.skip is not None else []
            out += [((blk, name(inner, kind)), mod) for kind, mod in subs]
        elif isinstance(m, Attention):
            blk, inner = name(top, "AttentionBlock"), {}
            out += [((blk, name(inner, kind)), mod) for kind, mod in
                    (("GroupNorm", m.norm), ("Dense", m.qkv), ("Dense", m.proj))]
        elif isinstance(m, nn.Conv2d):
            out.append(((name(top, "Conv"),), m))
    out += [((name(top, "GroupNorm"),), model.norm_out), ((name(top, "Conv"),), model.conv_out)]
    return out


def load_flax_params(model: UNet, flax_params) -> None:
    """Copies a genjax (unconditional) UNet's flax params into ``model``, checking shapes."""
    pairs = _named_modules_flax_style(model)
    used = 0
    with torch.no_grad():
        for path, mod in pairs:
            node = flax_params
            for key in path:
                node = node[key]
            weight = np.asarray(node["kernel"] if "kernel" in node else node["scale"])
            if weight.ndim == 4:
                weight = weight.transpose(3, 2, 0, 1)
            elif weight.ndim == 2:
                weight = weight.T
            for tensor, src in ((mod.weight, weight), (mod.bias, np.asarray(node["bias"]))):
                if tuple(src.shape) != tuple(tensor.shape):
                    raise ValueError(f"shape mismatch at {path}: {src.shape} vs {tensor.shape}")
                tensor.copy_(torch.from_numpy(np.ascontiguousarray(src)))
                used += 1
    total = sum(1 for _ in _leaves(flax_params))
    if used != total:
        raise ValueError(f"copied {used} of {total} flax leaves: the architectures differ")


def _leaves(tree):
    for v in tree.values():
        if hasattr(v, "items"):
            yield from _leaves(v)
        else:
            yield v
