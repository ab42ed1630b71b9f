"""A byte-level LSTM language model on the King James Bible (kjv), the article's RNN.

    genjax train lstm_kjv --workdir runs/lstm_kjv
    genjax sample runs/lstm_kjv --prompt "And God said" --num 4 --length 50 --out s.txt
    genjax eval runs/lstm_kjv --num-samples 16

Two LSTM layers of width 192 (689,920 parameters, near gpt_kjv's 834,304), windows of 64
bytes, batch 32, the AdamW schedule of gpt_kjv with lr 2e-3.

Runtime: 1,500 steps in 10.1 min on 2 CPU cores shared with other jobs (load average 7-10;
2.5 steps/s). Expected: train 2.18 bits/byte (last logged step), ``genjax eval`` test 2.53
bits/byte (perplexity 5.78 per byte), against gpt_kjv's 1.88 / 2.40 after the same steps.
"""

import ml_collections

from genjax.families.lm.config import rnn_base


def get_config() -> ml_collections.ConfigDict:
    config = rnn_base()
    config.data.name = "kjv"
    config.data.context = 64
    config.model.update({"cell": "lstm", "features": 192, "num_layers": 2, "dropout": 0.0})
    config.optim.update({"lr": 2e-3, "warmup_steps": 100})
    config.sample.update({"length": 62, "temperature": 0.8})
    config.train.update({"steps": 1500, "batch_size": 32, "log_every": 100,
                         "checkpoint_every": 500, "sample_every": 500, "num_samples": 4})
    return config
