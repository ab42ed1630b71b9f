"""DiffWave on spoken digits: waveform diffusion with label conditioning and classifier-free
guidance (the ``ddpm`` family on audio: its objective, schedules and samplers, with
``genjax.nn.diffwave``'s residual stack of dilated convolutions).

    pip install -e ".[audio]"      # eSpeak NG builds spoken_digits once (~2 min, 3,120 clips)
    genjax train diffwave_digits --workdir runs/diffwave_digits
    genjax sample runs/diffwave_digits --num 10 --label 7 --guidance 2 --steps 50 --out sevens.wav
    genjax sample runs/diffwave_digits --num 16 --label 3 --out threes/     # one WAV per clip
    genjax eval runs/diffwave_digits --num-samples 100

1 s clips at 16 kHz generated whole (not cropped): 30 residual layers of 64 channels,
dilations 1..512 three times (receptive field 6,139 samples, 0.38 s, each way); T = 200
linear steps (improved-diffusion's rescaling of DDPM's betas), eps-prediction, labels dropped
with probability 0.1 for guidance; Adam 2e-4 with 1,000 warm-up steps, EMA 0.9999, batch 16.
The DiffWave paper's SC09 model is 36 layers of 256 channels trained 1M steps on GPUs; this
one is smaller so that an accelerator job gives first digits.

Runtime: an accelerator job. A training step is about 2 TFLOP (30 layers, 16 clips of
16,000 samples, forward and backward): an estimate of ~40 s on 2 CPU cores at 50 GFLOP/s,
not a measurement. No trained run exists yet: sample quality is not measured; the plumbing
(training, exact resume, guided sampling into WAVs) is tested on ``spoken_digits_tiny``.
"""

import ml_collections

from genjax.families.diffusion.config import ddpm_base


def get_config() -> ml_collections.ConfigDict:
    config = ddpm_base()
    config.data.name = "spoken_digits"
    config.model = ml_collections.ConfigDict({
        "residual_channels": 64, "num_layers": 30, "dilation_cycle": 10, "time_dim": 128,
        "time_features": 512, "class_conditional": True, "dtype": "float32"})
    config.diffusion.update({"timesteps": 200, "label_dropout": 0.1, "guidance": 2.0,
                             "sample_steps": 50})
    config.optim.update({"lr": 2e-4, "warmup_steps": 1000})
    config.train.update({"steps": 200_000, "batch_size": 16, "log_every": 100,
                         "checkpoint_every": 2000, "sample_every": 5000, "num_samples": 10,
                         "eval_every": 0})
    config.eval.num_samples = 100
    config.eval.bound_timesteps = 20
    return config
