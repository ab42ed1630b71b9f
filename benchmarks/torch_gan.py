"""The GAN recipes of ``genjax.families.gan.objective`` in PyTorch eager: the speed reference of
``benchmarks/gan_step_time.py``.

Built from the same config (``genjax.config.load_config``) as ``genjax train``: the DCGAN
networks of :mod:`torch_dcgan` with their GAN-recipe options (conditional G, projection D,
layer norm, spectral norm), a port of ``genjax.families.gan.progressive``
(:class:`ProgressiveGenerator`, :class:`ProgressiveDiscriminator`), the losses of
``genjax.losses.adversarial.LOSSES``, WGAN-GP
(one interpolation weight per sample, norm over C, H, W), R1, ``n_critic`` D updates per G
update, DiffAugment (translation, cutout, colour; the reference ``DiffAugment_pytorch``
operations), an EMA of G's parameters and Adam with the config's rates and betas.

One step, as ``GAN.train_step``: ``n_critic`` times [fresh fakes from G in train mode
without gradients; D update on the (augmented) real batch and fakes, labels of the real
batch for both], then one G update on fresh noise (and uniform labels) through the updated
D, whose parameters are frozen for it (JAX differentiates G's parameters only), then the EMA.
For R1 the real logits and the penalty's gradient come from one D forward (the usual
PyTorch idiom; genjax's trace has a second forward, which XLA may merge).

Torch is imported only in benchmarks, never by ``genjax`` or ``tests``.
"""

from __future__ import annotations

from collections.abc import Callable

import ml_collections
import torch
import torch.nn.functional as F
from torch import nn
from torch_dcgan import Discriminator, Generator

LEAKY = 0.2

# -- progressive growing (port of genjax.families.gan.progressive, NCHW) ----------------------


def pixel_norm(x: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Normalises each pixel's feature vector (dim 1) to unit mean square."""
    return x * torch.rsqrt(x.pow(2).mean(dim=1, keepdim=True) + eps)


def upsample(x: torch.Tensor, factor: int) -> torch.Tensor:
    """Nearest-neighbour upsampling by an integer factor."""
    return x if factor == 1 else F.interpolate(x, scale_factor=factor, mode="nearest")


def downsample(x: torch.Tensor, factor: int) -> torch.Tensor:
    """Average pooling by an integer factor."""
    return x if factor == 1 else F.avg_pool2d(x, factor)


def fade_images(x: torch.Tensor, level: int, alpha: float, levels: int) -> torch.Tensor:
    """Real images as D sees them at ``level`` (``genjax.families.gan.progressive.fade_images``)."""
    top = levels - 1
    cur = upsample(downsample(x, 2 ** (top - level)), 2 ** (top - level))
    if level == 0:
        return cur
    prev = upsample(downsample(x, 2 ** (top - level + 1)), 2 ** (top - level + 1))
    return prev + alpha * (cur - prev)


def _conv3(fin: int, fout: int) -> nn.Conv2d:
    return nn.Conv2d(fin, fout, 3, 1, 1)


class ProgressiveGenerator(nn.Module):
    """``genjax.families.gan.progressive.ProgressiveGenerator``: every level's layers exist."""

    def __init__(self, features: tuple[int, ...], latent_dim: int, channels: int = 1) -> None:
        super().__init__()
        self.features, f0 = features, features[0]
        self.dense0 = nn.Linear(latent_dim, 16 * f0)
        self.block0 = _conv3(f0, f0)
        self.blocks = nn.ModuleList(
            nn.ModuleList([_conv3(features[lv - 1], features[lv]), _conv3(features[lv],
                                                                          features[lv])])
            for lv in range(1, len(features)))
        self.to_rgb = nn.ModuleList(nn.Conv2d(f, channels, 1) for f in features)

    def forward(self, z: torch.Tensor, level: int, alpha: float) -> torch.Tensor:
        """Full-size images ``(B, C, S, S)`` in [-1, 1] at ``level`` with fade weight ``alpha``."""
        top, f0 = len(self.features) - 1, self.features[0]
        h = self.dense0(pixel_norm(z)).view(z.shape[0], 4, 4, f0).permute(0, 3, 1, 2)
        h = pixel_norm(F.leaky_relu(h, LEAKY))
        h = pixel_norm(F.leaky_relu(self.block0(h), LEAKY))
        hs = [h]
        for lv in range(1, level + 1):
            h = upsample(h, 2)
            for conv in self.blocks[lv - 1]:
                h = pixel_norm(F.leaky_relu(conv(h), LEAKY))
            hs.append(h)
        img = self.to_rgb[level](hs[level])
        if level > 0:
            prev = upsample(self.to_rgb[level - 1](hs[level - 1]), 2)
            img = prev + alpha * (img - prev)
        return torch.tanh(upsample(img, 2 ** (top - level)))


class ProgressiveDiscriminator(nn.Module):
    """``genjax.families.gan.progressive.ProgressiveDiscriminator``: every level's layers exist."""

    def __init__(self, features: tuple[int, ...], channels: int = 1) -> None:
        super().__init__()
        self.features, f0 = features, features[0]
        self.from_rgb = nn.ModuleList(nn.Conv2d(channels, f, 1) for f in features)
        self.blocks = nn.ModuleList(
            nn.ModuleList([_conv3(features[lv], features[lv]), _conv3(features[lv],
                                                                       features[lv - 1])])
            for lv in range(1, len(features)))
        self.block0 = _conv3(f0, f0)
        self.dense0 = nn.Linear(16 * f0, f0)
        self.logit = nn.Linear(f0, 1)

    def forward(self, x: torch.Tensor, level: int, alpha: float) -> torch.Tensor:
        """Logits ``(B,)`` of full-size images at ``level`` with fade weight ``alpha``."""
        top = len(self.features) - 1

        def rgb_in(lv):
            return F.leaky_relu(self.from_rgb[lv](downsample(x, 2 ** (top - lv))), LEAKY)

        def block(lv, h):
            for conv in self.blocks[lv - 1]:
                h = F.leaky_relu(conv(h), LEAKY)
            return downsample(h, 2)

        h = rgb_in(level)
        if level > 0:
            h = block(level, h)
            low = rgb_in(level - 1)
            h = low + alpha * (h - low)
            for lv in range(level - 1, 0, -1):
                h = block(lv, h)
        h = F.leaky_relu(self.block0(h), LEAKY)
        h = h.permute(0, 2, 3, 1).flatten(1)  # NHWC order, as flax flattens
        return self.logit(F.leaky_relu(self.dense0(h), LEAKY))[:, 0]


# -- losses, penalties, DiffAugment ------------------------------------------------------------

LOSSES: dict[str, tuple[Callable, Callable]] = {  # name -> (d_loss(real, fake), g_loss(fake))
    "minimax": (lambda r, f: F.softplus(-r).mean() + F.softplus(f).mean(),
                lambda f: -F.softplus(f).mean()),
    "non_saturating": (lambda r, f: F.softplus(-r).mean() + F.softplus(f).mean(),
                       lambda f: F.softplus(-f).mean()),
    "hinge": (lambda r, f: F.relu(1 - r).mean() + F.relu(1 + f).mean(), lambda f: -f.mean()),
    "least_squares": (lambda r, f: 0.5 * (r - 1).pow(2).mean() + 0.5 * f.pow(2).mean(),
                      lambda f: 0.5 * (f - 1).pow(2).mean()),
    "wasserstein": (lambda r, f: f.mean() - r.mean(), lambda f: -f.mean()),
}


def gradient_penalty(critic: Callable[[torch.Tensor], torch.Tensor], real: torch.Tensor,
                     fake: torch.Tensor) -> torch.Tensor:
    """WGAN-GP's ``E[(||grad D(x_hat)|| - 1)^2]``, one U(0, 1) weight per sample, the norm over
    all non-batch dimensions; differentiable (``create_graph``)."""
    w = torch.rand(real.shape[0], 1, 1, 1)
    x_hat = (w * real + (1 - w) * fake).requires_grad_(True)
    (grads,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
    return ((grads.pow(2).flatten(1).sum(1) + 1e-12).sqrt() - 1).pow(2).mean()


def _translation(x: torch.Tensor, ratio: float = 0.125) -> torch.Tensor:
    n, _, h, w = x.shape
    sh, sw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    dy = torch.randint(-sh, sh + 1, (n, 1, 1))
    dx = torch.randint(-sw, sw + 1, (n, 1, 1))
    b, gy, gx = torch.meshgrid(torch.arange(n), torch.arange(h), torch.arange(w), indexing="ij")
    padded = F.pad(x, [sw, sw, sh, sh]).permute(0, 2, 3, 1)
    return padded[b, gy + dy + sh, gx + dx + sw].permute(0, 3, 1, 2)


def _cutout(x: torch.Tensor, ratio: float = 0.5) -> torch.Tensor:
    n, _, h, w = x.shape
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    oy = torch.randint(0, h + (1 - ch % 2), (n, 1))
    ox = torch.randint(0, w + (1 - cw % 2), (n, 1))
    rows = torch.arange(h)[None] - (oy - ch // 2)
    cols = torch.arange(w)[None] - (ox - cw // 2)
    inside = (((rows >= 0) & (rows < ch))[:, :, None] & ((cols >= 0) & (cols < cw))[:, None])
    return x * (~inside)[:, None].to(x.dtype)


def _color(x: torch.Tensor) -> torch.Tensor:
    n = x.shape[0]
    x = x + (torch.rand(n, 1, 1, 1) - 0.5)
    mean = x.mean(dim=1, keepdim=True)
    x = (x - mean) * (torch.rand(n, 1, 1, 1) * 2) + mean
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - mean) * (torch.rand(n, 1, 1, 1) + 0.5) + mean


_AUGMENT = {"color": _color, "translation": _translation, "cutout": _cutout}


def diff_augment(x: torch.Tensor, policy: tuple[str, ...]) -> torch.Tensor:
    """DiffAugment's policies in order, fresh per-sample draws
    (``genjax.families.gan.diffaugment``)."""
    for name in policy:
        x = _AUGMENT[name](x)
    return x


# -- networks and step from a genjax config ----------------------------------------------------


def networks(config: ml_collections.ConfigDict, channels: int = 1,
             num_classes: int = 10) -> tuple[nn.Module, nn.Module]:
    """The torch generator and discriminator of a genjax ``gan`` config (``model.*``).

    Args:
      config: a resolved genjax config of family ``gan``, arch ``dcgan`` or ``progressive``.
      channels: image channels.
      num_classes: classes of the data (used when ``model.conditional``).

    Returns:
      ``(generator, discriminator)`` in train mode.
    """
    m = config.model
    if m.arch == "progressive":
        return (ProgressiveGenerator(tuple(m.g_features), m.latent_dim, channels),
                ProgressiveDiscriminator(tuple(m.d_features), channels))
    if m.arch != "dcgan" or m.pack != 1:
        raise ValueError(f"no torch reference for arch {m.arch!r} with pack {m.pack}")
    classes = num_classes if m.conditional else 0
    return (Generator(channels, tuple(m.g_features), m.latent_dim, classes, m.label_dim),
            Discriminator(channels, tuple(m.d_features), m.d_norm, m.spectral_norm, classes))


def make_gan_step(config: ml_collections.ConfigDict, batch_size: int, seed: int = 0,
                  num_classes: int = 10):
    """One ``genjax train`` step of a ``gan`` config in PyTorch eager (see the module docstring).

    Args:
      config: the genjax config (networks, ``gan.*`` recipe, ``optim.*``).
      batch_size: real images per step.
      seed: torch seed for initialisation.
      num_classes: classes of the data.

    Returns:
      ``(step_fn, (generator, discriminator))``; ``step_fn(real, labels)`` takes ``(B, C, 32,
      32)`` images and int64 labels ``(B,)`` and returns ``(d_loss, g_loss)``. A progressive
      config runs at its top level, fully faded in (the final stable phase).
    """
    torch.manual_seed(seed)
    g, d = networks(config, num_classes=num_classes)
    gan, o, m = config.gan, config.optim, config.model
    d_loss_fn, g_loss_fn = LOSSES[gan.loss]
    policy = tuple(p.strip() for p in gan.augment.split(",") if p.strip())
    opt_g = torch.optim.Adam(g.parameters(), lr=o.g_lr, betas=(o.b1, o.b2))
    opt_d = torch.optim.Adam(d.parameters(), lr=o.d_lr, betas=(o.b1, o.b2))
    g_params = list(g.parameters())
    ema = [p.detach().clone() for p in g_params] if gan.ema_decay else []
    if m.arch == "progressive":
        levels = len(m.g_features)
        extra = {"level": levels - 1, "alpha": 1.0}
    else:
        levels, extra = 0, {}

    def run_g(z, labels):
        return g(z, **extra) if m.arch == "progressive" else g(z, labels)

    def run_d(x, labels):
        return d(x, **extra) if m.arch == "progressive" else d(x, labels)

    def latents():
        return torch.randn(batch_size, m.latent_dim)

    def step_fn(real: torch.Tensor, labels: torch.Tensor):
        lab = labels if m.conditional else None
        if levels:
            real = fade_images(real, extra["level"], extra["alpha"], levels)
        for _ in range(gan.n_critic):
            with torch.no_grad():
                fake = run_g(latents(), lab)
            real_in, fake_in = diff_augment(real, policy), diff_augment(fake, policy)
            if gan.r1_weight:
                real_in = real_in.detach().requires_grad_(True)
            opt_d.zero_grad(set_to_none=True)
            real_logits = run_d(real_in, lab)
            d_loss = d_loss_fn(real_logits, run_d(fake_in, lab))
            total = d_loss
            if gan.gp_weight:
                total = total + gan.gp_weight * gradient_penalty(
                    lambda x: run_d(x, lab), real_in, fake_in)
            if gan.r1_weight:
                (grads,) = torch.autograd.grad(real_logits.sum(), real_in, create_graph=True)
                total = total + 0.5 * gan.r1_weight * grads.pow(2).flatten(1).sum(1).mean()
            total.backward()
            opt_d.step()
        d.requires_grad_(False)
        opt_g.zero_grad(set_to_none=True)
        g_lab = torch.randint(0, num_classes, (batch_size,)) if m.conditional else None
        g_loss = g_loss_fn(run_d(diff_augment(run_g(latents(), g_lab), policy), g_lab))
        g_loss.backward()
        opt_g.step()
        d.requires_grad_(True)
        if ema:
            with torch.no_grad():
                torch._foreach_lerp_(ema, g_params, 1.0 - gan.ema_decay)
        return d_loss.detach(), g_loss.detach()

    return step_fn, (g, d)


def num_params(module: nn.Module) -> int:
    """Trainable parameter count (spectral norm's ``u``, ``v`` and BN statistics excluded)."""
    return sum(p.numel() for p in module.parameters())
