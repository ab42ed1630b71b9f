"""The DDPM CIFAR-10 model (Ho et al., 2020): 35.7M-parameter UNet, T=1000 linear, for a GPU/TPU.

    genjax train ddpm_cifar10 --workdir runs/ddpm_cifar10 --config.data.data_dir=/path/tfds

Needs the TFDS ``cifar10`` dataset prepared offline in ``data.data_dir`` (genjax cannot
download it here; ``tfds build cifar10`` on a machine with internet, then copy the folder).
The network is the paper's: ch 128, ch_mult (1, 2, 2, 2), 2 residual blocks per level,
self-attention at 16x16, dropout 0.1, Adam 2e-4 with 5,000 warmup steps, gradient clipping 1,
EMA 0.9999, batch 128, random horizontal flips in the paper (not applied here).

Expected: the paper reports FID 3.17 and IS 9.46 (50k samples, 1000-step ancestral sampling,
the EMA weights) after 800k steps at batch 128: the authors report 21 steps/s on a TPU
v3-8 (about 8 V100s), i.e. about 10.6 hours; on one GPU expect days. DDIM with 50 steps
gives FID 4.67 in the DDIM paper (about 7.7 in public reproductions). Test bound:
<= 3.75 bits/dim (L_simple, Table 1).
bf16 compute: ``--config.model.dtype=bfloat16``. ``benchmarks/unet_gpu.py`` times this
network's train step.
"""

import ml_collections

from genjax.families.diffusion.config import ddpm_base


def get_config() -> ml_collections.ConfigDict:
    config = ddpm_base()
    config.data.name = "cifar10"
    config.model = ml_collections.ConfigDict({
        "ch": 128, "ch_mult": (1, 2, 2, 2), "num_res_blocks": 2, "attn_resolutions": (16,),
        "dropout": 0.1, "norm_groups": 32, "class_conditional": False, "dtype": "float32"})
    config.train.steps = 800_000
    config.train.batch_size = 128
    config.train.log_every = 100
    config.train.checkpoint_every = 10_000
    config.train.sample_every = 10_000
    config.train.num_samples = 64
    return config
