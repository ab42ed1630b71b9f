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

from genjax.config import load_config


def get_config() -> ml_collections.ConfigDict:
    config = load_config("classifier_mnist")  # its network, optimizer and schedule
    config.data.name = "spoken_digits"
    config.data.image_size = 0
    config.model.front_end = "log_mel"
    return config
