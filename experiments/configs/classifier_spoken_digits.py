"""Spoken-digit classifier on ``spoken_digits``: the audio domain feature network of
``genjax eval`` (the SC09 protocol's classifier).

    pip install -e ".[audio]"      # eSpeak NG builds spoken_digits once (~2 min)
    genjax train classifier_spoken_digits --workdir runs/classifier_audio

A clip's log-mel spectrogram (25 ms Hann frames every 10 ms, 40 HTK mel bands: 98 x 40 for
1 s), standardised per clip, through ``classifier_mnist``'s conv net (32-32-pool-64-64-pool,
Dense 128, dropout 0.3); Adam 1e-3, batch 64, 600 steps (~15 epochs of the 2,520 train clips).
Test voices are never heard in training (the dataset is split by voice).
"""

import ml_collections

from genjax.config import base_config


def get_config() -> ml_collections.ConfigDict:
    config = base_config()
    config.family = "classifier"
    config.data.name = "spoken_digits"
    config.model = ml_collections.ConfigDict({"features": 128, "dropout": 0.3,
                                              "front_end": "log_mel"})
    config.optim = ml_collections.ConfigDict({"lr": 1e-3, "b1": 0.9, "b2": 0.999})
    config.train.steps = 600
    config.train.batch_size = 64
    config.train.log_every = 50
    config.train.checkpoint_every = 600
    config.train.sample_every = 0
    config.train.eval_every = 200
    config.train.num_samples = 0
    return config
