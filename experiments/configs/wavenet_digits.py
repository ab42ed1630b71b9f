"""WaveNet on spoken digits, label-conditioned (the SC09 task on eSpeak NG voices).

    pip install -e ".[audio]"      # eSpeak NG builds spoken_digits once (~2 min, 3,120 clips)
    genjax train wavenet_digits --workdir runs/wavenet_digits
    genjax sample runs/wavenet_digits --num 10 --label 7 --out sevens.wav
    genjax eval runs/wavenet_digits --num-samples 100   # bits per sample, SC09-style FID / IS

2 blocks of dilations 1..512 (20 layers, receptive field 2,048 samples = 128 ms), 64
residual / 128 skip channels, global label conditioning; batches of 16 random 0.25 s crops,
Adam 1e-3, 20,000 steps.

Runtime: on the 2-core development CPU under heavy contention one step took 20.7 s and
sampling made 0.134 s of audio per wall second (``benchmarks/wavenet_speed.py``,
``benchmarks/RESULTS.md``): 20,000 steps are days there, an accelerator job. No trained run
exists yet, so the test bits per sample and the sample quality it reaches are not measured.
"""

import ml_collections

from genjax.families.wavenet.config import wavenet_base


def get_config() -> ml_collections.ConfigDict:
    config = wavenet_base()
    config.train.update({"steps": 20_000, "log_every": 100, "checkpoint_every": 1000,
                         "sample_every": 2000, "eval_every": 0})
    return config
