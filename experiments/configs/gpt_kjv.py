"""A small GPT (byte-level Transformer) on the King James Bible (kjv), CPU-sized.

    genjax train gpt_kjv --workdir runs/gpt_kjv
    genjax sample runs/gpt_kjv --prompt "In the beginning" --num 4 --length 200 \\
        --temperature 0.8 --top-k 40 --top-p 0.95 --seed 0 --out samples.txt
    genjax eval runs/gpt_kjv --num-samples 16

nanoGPT's CPU "baby" settings: 4 layers, 4 heads, width 128 (834,304 parameters with tied
embeddings), windows of 64 bytes, batch 32, AdamW (lr 1e-3, betas 0.9/0.99, weight decay 0.1
on matrices) with 100 warm-up steps and a cosine decay to 1e-4, gradient clipping at 1, no
dropout.

Runtime: 1,500 steps in 19.5 min on this machine's 2 CPU cores shared with three other jobs
(load average 5-7; 1.3 steps/s), 2.7 steps/s (~9 min) when the load was ~3. Expected: train
1.88 bits/byte (1.31 nats, last logged step), ``genjax eval`` test 2.40 bits/byte
(perplexity 5.29 per byte) on the unseen books (Romans to Revelation), samples that read as
verse references and KJV-like phrases ("Psalms 38:2 And also cometh the LORD God and water
before me;"), longest verbatim span in the train split 18 bytes on average over 16 samples.
"""

import ml_collections

from genjax.families.lm.config import gpt_base


def get_config() -> ml_collections.ConfigDict:
    config = gpt_base()
    config.data.name = "kjv"
    config.data.context = 64
    config.model.update({"features": 128, "num_layers": 4, "num_heads": 4, "mlp_ratio": 4,
                         "dropout": 0.0})
    config.optim.update({"lr": 1e-3, "warmup_steps": 100})
    config.sample.update({"length": 62, "temperature": 0.8})
    config.train.update({"steps": 1500, "batch_size": 32, "log_every": 100,
                         "checkpoint_every": 500, "sample_every": 500, "num_samples": 4})
    return config
