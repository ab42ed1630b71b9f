"""The smallest WaveNet (the tests' smoke config): 3 layers, 8 residual channels.

    genjax train wavenet_tiny --workdir runs/wavenet_tiny

Crops of 64 samples of ``spoken_digits_tiny`` (50 clips that eSpeak NG speaks in seconds;
``pip install -e ".[audio]"``), 20 steps of batch 8: seconds on a CPU. It checks the
plumbing (the loss starts to fall from 8 bits per sample); the samples are noise.
"""

import ml_collections

from genjax.families.wavenet.config import smallest_config


def get_config() -> ml_collections.ConfigDict:
    config = smallest_config()
    config.train.update({"steps": 20, "log_every": 5, "checkpoint_every": 10,
                         "sample_every": 10})
    return config
