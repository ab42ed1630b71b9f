"""A convolutional denoising autoencoder on the embedded MNIST digits (28x28).

    genjax train dae_mnist --workdir runs/dae
    genjax sample runs/dae --num 64 --steps 30 --out dae.png

Corruption: each pixel masked to the background with probability 0.25, then Gaussian noise of
std 0.5 (on the [-1, 1] scale); loss: binary cross-entropy to the clean intensities, per image
summed over pixels. ``genjax sample`` runs the generalized-DAE Markov chain (Bengio et al.,
2013) from uniform noise for ``--steps`` transitions (see genjax/objectives/dae.py).

Runtime: 1,000 steps took 2 min 40 s wall (81 s CPU) on 2 shared CPU cores. Expected:
held-out reconstruction loss ~ 86 nats/image from corrupted inputs and ~ 79 from clean ones
(``eval_loss``, ``eval_clean_loss``; binary cross-entropy to grey intensities, so it includes
their entropy); sharp denoised reconstructions in runs/dae/samples/recon_*.png. The sampling
chain mixes poorly: 30 steps from noise give mostly blob- and 8-like shapes with a few clear
digits, as expected of a DAE chain this short; prefer the VAE or AAE to generate.
"""

import ml_collections

from genjax.families.autoencoders.config import autoencoder_config


def get_config() -> ml_collections.ConfigDict:
    return autoencoder_config(
        "dae", latent_dim=32, enc_features=(32, 64),
        loss="bce",  # or "mse"
        noise_std=0.5,  # additive Gaussian noise std (0: none)
        mask_prob=0.25,  # probability of masking a pixel to -1 (0: none)
        sample_steps=30,  # default length of the sampling chain
    )
