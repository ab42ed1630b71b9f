"""One process of the two-process test (tests/core/test_multihost.py); not a test itself.

Runs ``genjax train`` exactly as a user on one host would, then writes this process's copy of
the final parameters to ``OUT/params_<process>.npz`` so the test can compare the hosts.

    python -m tests.core.multihost_worker OUT genjax-train-arguments...
"""

import sys

import jax
import numpy as np

import genjax.core.loop
from genjax.cli import main
from genjax.core.parallel import process_local


def run(out: str, argv: list[str]) -> int:
    final = {}
    train = genjax.core.loop.train

    def keep_final_state(*args, **kwargs):  # the CLI discards train's return value
        final["state"] = train(*args, **kwargs)
        return final["state"]

    genjax.core.loop.train = keep_final_state
    code = main(argv)
    if code == 0:
        leaves = jax.tree_util.tree_flatten_with_path(process_local(final["state"].params))[0]
        np.savez(f"{out}/params_{jax.process_index()}.npz",
                 **{jax.tree_util.keystr(p): np.asarray(x) for p, x in leaves})
    return code


if __name__ == "__main__":
    sys.exit(run(sys.argv[1], sys.argv[2:]))
