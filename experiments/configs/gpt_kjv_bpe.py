"""``gpt_kjv`` on byte-level BPE tokens: the same Transformer and schedule over a 1,024-token
BPE learned on the kjv train split (HF tokenizers, the ``text`` extra).

    pip install "genjax-models[text]"
    genjax train gpt_kjv_bpe --workdir runs/gpt_kjv_bpe
    genjax eval runs/gpt_kjv_bpe --num-samples 16

The BPE is trained once (~2 s) and cached under the data folder's ``tokenizers/``; a token
stands for 2.67 bytes of the test books on average, so the 64-token windows hold ~170 bytes
of text (the byte model's hold 64). Test loss is reported in bits per byte like every text
run (nats over the predicted tokens / ln 2 / the bytes they stand for), so the two compare.
Runtime and results: benchmarks/RESULTS.md (issue 13).
"""

import ml_collections

from genjax.configs.gpt_kjv import get_config as gpt_kjv


def get_config() -> ml_collections.ConfigDict:
    config = gpt_kjv()
    config.data.tokenizer = "bpe"
    config.data.vocab_size = 1024
    config.sample.length = 60  # tokens (~160 bytes) after the prompt
    return config
