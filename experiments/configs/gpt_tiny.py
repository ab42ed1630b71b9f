"""The smallest GPT (the tests' smoke config): 1 layer, width 16, on pydoc_topics.

    genjax train gpt_tiny --workdir runs/gpt_tiny

Windows of 16 bytes of the standard library's documentation topics (no dependency), 20
steps of batch 8: seconds on a CPU; the loss only starts to fall (it checks the plumbing).
"""

import ml_collections

from genjax.families.lm.config import smallest_config


def get_config() -> ml_collections.ConfigDict:
    config = smallest_config()
    config.train.update({"steps": 20, "log_every": 5, "checkpoint_every": 10,
                         "sample_every": 10})
    return config
