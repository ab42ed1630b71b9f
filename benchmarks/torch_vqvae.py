"""The VQ-VAE of genjax.families.vqvae.networks + genjax.nn.quantizer in PyTorch eager: the
speed reference.

Same architecture (NCHW here): encoder Conv k4 s2 p1 (1->32) ReLU, Conv k4 s2 p1 (32->64) ReLU,
Conv k3 (64), one residual block (ReLU, Conv k3 64->32, ReLU, Conv k1 32->64, add), ReLU,
Conv k1 (64->16); decoder Conv k3 (16->64), residual block, ReLU, ConvTranspose k4 s2 p1
(64->32) ReLU, ConvTranspose k4 s2 p1 (32->1). Quantiser: nearest of K=256 codes, straight
through; EMA codebook (decay 0.99, Laplace smoothing eps 1e-5, N_k starting at 1) and
dead-code restarts after 100 unused steps; loss MSE + 0.25 commitment; Adam lr 1e-3.
Torch is imported only here (``bench`` extra), never by ``genjax`` or ``tests``.
"""

from __future__ import annotations

import torch
from torch import nn


class _Res(nn.Module):
    def __init__(self, c: int, hidden: int):
        super().__init__()
        self.a = nn.Conv2d(c, hidden, 3, 1, 1)
        self.b = nn.Conv2d(hidden, c, 1)

    def forward(self, x):
        return x + self.b(torch.relu(self.a(torch.relu(x))))


class VQVAE(nn.Module):
    """Encoder, EMA quantiser buffers, decoder."""

    def __init__(self, num_codes=256, code_dim=16, features=(32, 64), res_hidden=32,
                 decay=0.99, eps=1e-5, restart_after=100):
        super().__init__()
        f1, f2 = features
        self.encoder = nn.Sequential(nn.Conv2d(1, f1, 4, 2, 1), nn.ReLU(),
                                     nn.Conv2d(f1, f2, 4, 2, 1), nn.ReLU(),
                                     nn.Conv2d(f2, f2, 3, 1, 1), _Res(f2, res_hidden), nn.ReLU(),
                                     nn.Conv2d(f2, code_dim, 1))
        self.decoder = nn.Sequential(nn.Conv2d(code_dim, f2, 3, 1, 1), _Res(f2, res_hidden),
                                     nn.ReLU(), nn.ConvTranspose2d(f2, f1, 4, 2, 1), nn.ReLU(),
                                     nn.ConvTranspose2d(f1, 1, 4, 2, 1))
        limit = (3.0 / code_dim) ** 0.5
        codebook = torch.empty(num_codes, code_dim).uniform_(-limit, limit)
        self.register_buffer("codebook", codebook)
        self.register_buffer("cluster_size", torch.ones(num_codes))
        self.register_buffer("embed_sum", codebook.clone())
        self.register_buffer("unused", torch.zeros(num_codes, dtype=torch.long))
        self.decay, self.eps, self.restart_after = decay, eps, restart_after

    def forward(self, x):
        z = self.encoder(x).permute(0, 2, 3, 1)  # NHWC, like genjax
        flat = z.reshape(-1, z.shape[-1])
        dist = ((flat**2).sum(1, keepdim=True) - 2 * flat @ self.codebook.T
                + (self.codebook**2).sum(1)[None])
        idx = dist.argmin(1)
        q = self.codebook[idx].view_as(z)
        zq = z + (q - z).detach()
        recon = self.decoder(zq.permute(0, 3, 1, 2))
        return recon, z, flat, idx, q

    @torch.no_grad()
    def update_codebook(self, flat, idx):
        k = self.codebook.shape[0]
        onehot = torch.nn.functional.one_hot(idx, k).float()
        counts = onehot.sum(0)
        self.cluster_size.mul_(self.decay).add_(counts, alpha=1 - self.decay)
        self.embed_sum.mul_(self.decay).add_(onehot.T @ flat.detach(), alpha=1 - self.decay)
        n = self.cluster_size.sum()
        smoothed = (self.cluster_size + self.eps) / (n + k * self.eps) * n
        self.codebook.copy_(self.embed_sum / smoothed[:, None])
        self.unused = torch.where(counts > 0, 0, self.unused + 1)
        dead = self.unused >= self.restart_after
        if dead.any():
            rows = torch.randint(0, flat.shape[0], (k,))
            cand = flat.detach()[rows]
            self.codebook[dead] = cand[dead]
            self.embed_sum[dead] = cand[dead]
            self.cluster_size[dead] = 1.0
            self.unused[dead] = 0


def make_step(model: VQVAE, lr: float = 1e-3, beta: float = 0.25):
    """One step: forward, loss, backward, Adam, EMA update + restarts."""
    opt = torch.optim.Adam([p for p in model.parameters()], lr=lr)

    def step(x):
        recon, z, flat, idx, q = model(x)
        loss = ((recon - x) ** 2).mean() + beta * ((z - q.detach()) ** 2).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        model.update_codebook(flat, idx)
        return loss

    return step
