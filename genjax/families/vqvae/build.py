"""From ``vqvae`` / ``vqvae_prior`` configs to their objectives."""

from __future__ import annotations

import ml_collections

from genjax.data.tfds import DatasetSpec
from genjax.families._build import adam, first_stage, image_size


def build_vqvae(config: ml_collections.ConfigDict, spec: DatasetSpec, context):
    """A VQ-VAE (plain or EMA codebook); it samples through its prior stage (vqvae_prior)."""
    from genjax.families.vqvae.networks import VQDecoder, VQEncoder, check_image_side
    from genjax.families.vqvae.objective import VQVAE

    m = config.model
    features = tuple(m.features)
    check_image_side(image_size(config, spec), len(features))
    return VQVAE(
        encoder=VQEncoder(features=features, code_dim=m.code_dim,
                        num_res_blocks=m.num_res_blocks, res_hidden=m.res_hidden),
        decoder=VQDecoder(features=features, channels=spec.shape[-1],
                        num_res_blocks=m.num_res_blocks, res_hidden=m.res_hidden),
        num_codes=m.num_codes,
        optimizer=adam(config.optim),
        variant=m.variant,
        beta=m.beta,
        ema_decay=m.ema_decay,
        ema_epsilon=m.ema_epsilon,
        restarts=m.restarts,
        restart_after=m.restart_after,
        data_key=context.modality.batch_key,
    )


def build_prior(config: ml_collections.ConfigDict, spec: DatasetSpec, context):
    """The prior stage of a trained VQ-VAE run (``model.vqvae_dir``), frozen into the state."""
    from genjax.families.vqvae.networks import check_image_side
    from genjax.families.vqvae.prior import HeldTree, VQVAEPrior
    from genjax.families.vqvae.prior_network import CodePrior

    m = config.model
    vq_config, vq_objective, vq_state = first_stage(config, context, "vqvae_dir", ("vqvae",),
                                                    "VQ-VAE", "vqvae_mnist")
    side = check_image_side(image_size(config, spec), len(vq_config.model.features))
    return VQVAEPrior(
        vqvae=vq_objective,
        prior=CodePrior(num_codes=vq_config.model.num_codes, length=side * side,
                        width=m.width, depth=m.depth, heads=m.heads, mlp_ratio=m.mlp_ratio),
        optimizer=adam(config.optim),
        frozen=HeldTree({"params": vq_state.params, "model_state": vq_state.model_state}),
        data_key=context.modality.batch_key,
    )
