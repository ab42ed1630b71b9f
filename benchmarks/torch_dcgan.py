"""The DCGAN of genjax.families.gan.dcgan in PyTorch: the speed reference.

Same architecture as :mod:`genjax.families.gan.dcgan` (NCHW here), same init (conv
weights N(0, 0.02), BN scale N(1, 0.02), biases 0), same BatchNorm
(momentum 0.1, eps 1e-5), non-saturating GAN loss from logits
(``BCEWithLogitsLoss``), Adam lr 2e-4, betas (0.5, 0.999).

One step = one D update on a real batch and a detached fake batch (two D
passes, as in the PyTorch DCGAN tutorial) followed by one G update on fresh
noise. Torch is imported only here, never by ``genjax`` or ``tests``; install
it with the ``bench`` extra (``pip install torch==2.13.0``).

Usage::

    python benchmarks/torch_dcgan.py [--batch 64] [--channels 1] [--iters 10]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import torch
from torch import nn

LATENT_DIM = 100


def _init(m: nn.Module) -> None:
    if isinstance(m, nn.Conv2d | nn.ConvTranspose2d):
        nn.init.normal_(m.weight, 0.0, 0.02)
        if m.bias is not None:
            nn.init.zeros_(m.bias)
    elif isinstance(m, nn.BatchNorm2d):
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)


def _bn(c: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(c, eps=1e-5, momentum=0.1)


class Generator(nn.Module):
    """DCGAN generator, ``(B, latent)`` -> ``(B, C, 32, 32)`` in [-1, 1].

    ``num_classes > 0`` makes it conditional as ``genjax.families.gan.dcgan.Generator``: the labels'
    embedding (``label_dim`` wide) is concatenated to ``z``.
    """

    def __init__(self, channels: int = 1, features: tuple[int, ...] = (256, 128, 64),
                 latent_dim: int = LATENT_DIM, num_classes: int = 0,
                 label_dim: int = 32) -> None:
        super().__init__()
        self.embedding = nn.Embedding(num_classes, label_dim) if num_classes else None
        z_dim = latent_dim + (label_dim if num_classes else 0)
        layers: list[nn.Module] = [
            nn.ConvTranspose2d(z_dim, features[0], 4, 1, 0, bias=False),
            _bn(features[0]), nn.ReLU(True),
        ]
        for fin, fout in zip(features[:-1], features[1:], strict=True):
            layers += [nn.ConvTranspose2d(fin, fout, 4, 2, 1, bias=False), _bn(fout),
                       nn.ReLU(True)]
        layers += [nn.ConvTranspose2d(features[-1], channels, 4, 2, 1, bias=True), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        self.apply(_init)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Maps latents ``(B, latent)`` (and labels ``(B,)`` if conditional) to images."""
        if self.embedding is not None:
            z = torch.cat([z, self.embedding(labels)], dim=1)
        return self.net(z[:, :, None, None])


class Discriminator(nn.Module):
    """DCGAN discriminator, ``(B, C, 32, 32)`` -> logits ``(B,)``.

    The options of ``genjax.families.gan.dcgan.Discriminator``: ``norm`` ``"batch"`` (DCGAN),
    ``"layer"`` (per sample over C, H, W with a per-channel affine, as flax's
    ``LayerNorm(reduction_axes=(1, 2, 3))``: ``GroupNorm`` with one group) or ``"none"``
    (convolutions get biases); ``spectral_norm`` wraps every convolution in
    ``torch.nn.utils.parametrizations.spectral_norm`` (one power iteration per training
    forward); ``num_classes > 0`` adds the projection ``<embed(y), phi(x)>`` on the flattened
    last features.
    """

    def __init__(self, channels: int = 1, features: tuple[int, ...] = (64, 128, 256),
                 norm: str = "batch", spectral_norm: bool = False,
                 num_classes: int = 0) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        fin = channels
        for fout in features:
            layers.append(nn.Conv2d(fin, fout, 4, 2, 1, bias=norm == "none"))
            if norm == "batch":
                layers.append(_bn(fout))
            elif norm == "layer":
                layers.append(nn.GroupNorm(1, fout, eps=1e-6))  # flax LayerNorm's epsilon
            elif norm != "none":
                raise ValueError(f"norm must be 'batch', 'layer' or 'none', got {norm!r}")
            layers.append(nn.LeakyReLU(0.2, True))
            fin = fout
        self.body = nn.Sequential(*layers)
        self.head = nn.Conv2d(fin, 1, 4, 1, 0, bias=True)
        self.projection = nn.Embedding(num_classes, fin * 16) if num_classes else None
        self.apply(_init)
        if spectral_norm:
            for conv in [m for m in self.modules() if isinstance(m, nn.Conv2d)]:
                nn.utils.parametrizations.spectral_norm(conv, n_power_iterations=1)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Maps images (and labels ``(B,)`` for a projection D) to logits ``(B,)``."""
        h = self.body(x)
        logits = self.head(h).flatten()
        if self.projection is not None:
            logits = logits + (self.projection(labels) * h.flatten(1)).sum(dim=1)
        return logits


def make_step(
    batch_size: int, channels: int = 1, freeze_d_in_g_step: bool = False, seed: int = 0
) -> tuple[Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]],
           tuple[nn.Module, nn.Module]]:
    """Builds one DCGAN training step (D update, then G update).

    Args:
      batch_size: images per batch (fake batches have the same size).
      channels: image channels.
      freeze_d_in_g_step: if True, D's parameters do not require grad during
        the G update, so its backward skips D's weight gradients (what JAX
        does by construction). False is the PyTorch-tutorial idiom.
      seed: torch seed for initialization.

    Returns:
      ``(step_fn, (generator, discriminator))``; ``step_fn(real)`` takes a
      ``(B, C, 32, 32)`` float tensor and returns ``(d_loss, g_loss)``.
    """
    torch.manual_seed(seed)
    g, d = Generator(channels), Discriminator(channels)
    opt_g = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))
    bce = nn.BCEWithLogitsLoss()
    ones = torch.ones(batch_size)
    zeros = torch.zeros(batch_size)

    def step_fn(real: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        # D update on real + detached fake.
        fake = g(torch.randn(batch_size, LATENT_DIM))
        opt_d.zero_grad(set_to_none=True)
        d_loss = bce(d(real), ones) + bce(d(fake.detach()), zeros)
        d_loss.backward()
        opt_d.step()
        # G update on fresh noise, non-saturating loss.
        if freeze_d_in_g_step:
            d.requires_grad_(False)
        opt_g.zero_grad(set_to_none=True)
        g_loss = bce(d(g(torch.randn(batch_size, LATENT_DIM))), ones)
        g_loss.backward()
        opt_g.step()
        if freeze_d_in_g_step:
            d.requires_grad_(True)
        return d_loss.detach(), g_loss.detach()

    return step_fn, (g, d)


def time_step(step_fn: Callable[[torch.Tensor], object], real: torch.Tensor, warmup: int,
              iters: int) -> float:
    """Times ``step_fn(real)``.

    Args:
      step_fn: a step from :func:`make_step` (or a compiled one).
      real: the real batch, reused every step.
      warmup: untimed steps first (compilation, allocator warm-up).
      iters: timed steps.

    Returns:
      Mean milliseconds per step over the timed steps.
    """
    for _ in range(warmup):
        step_fn(real)
    t0 = time.perf_counter()
    for _ in range(iters):
        step_fn(real)
    return (time.perf_counter() - t0) / iters * 1e3


def main() -> None:
    """Prints ms/step for eager and torch.compile on 2 threads."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--channels", type=int, default=1)
    p.add_argument("--iters", type=int, default=10)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--no-compile", action="store_true")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    real = torch.rand(args.batch, args.channels, 32, 32) * 2 - 1
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, batch {args.batch}")
    for freeze in (False, True):
        step, _ = make_step(args.batch, args.channels, freeze_d_in_g_step=freeze)
        ms = time_step(step, real, warmup=3, iters=args.iters)
        print(f"eager{' (D frozen in G step)' if freeze else ''}: {ms:.1f} ms/step")
    if not args.no_compile:
        try:
            step, _ = make_step(args.batch, args.channels)
            compiled = torch.compile(step)
            ms = time_step(compiled, real, warmup=3, iters=args.iters)
            print(f"torch.compile(step): {ms:.1f} ms/step")
        except Exception as e:  # noqa: BLE001 - report and go on
            print(f"torch.compile failed: {type(e).__name__}: {e}")


if __name__ == "__main__":
    main()
