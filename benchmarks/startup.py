"""Command start-up time: `genjax --help`, `--version`, `configs`, ... in fresh processes.

    python benchmarks/startup.py                          # this checkout
    python benchmarks/startup.py --baseline /tmp/before   # and a source tree of an older one

``--baseline`` is a folder holding an older ``genjax/`` package (e.g. ``git archive COMMIT
genjax | tar -x -C /tmp/before``); its column is measured in the same run, interleaved with the
current one, so the ratio is of the same machine load. Each cell is the median wall time of
``--repeats`` fresh interpreters (imports included: what a user waits for).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

COMMANDS = (["--help"], ["--version"], ["train", "--help"], ["configs"],
            ["configs", "dcgan_mnist"], ["sample", "--help"], ["eval", "--help"])

CWD = tempfile.gettempdir()  # not the checkout: its genjax/ would shadow --baseline
RUN = "import sys; from genjax.cli import main; sys.exit(main(sys.argv[1:]))"


def wall(args: list[str], pythonpath: str | None) -> float:
    env = dict(os.environ)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath + os.pathsep + env.get("PYTHONPATH", "")
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", RUN, *args], env=env, check=False, cwd=CWD,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", help="folder with an older genjax/ package")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    trees = {"now": None} | ({"before": args.baseline} if args.baseline else {})
    times = {(tuple(c), t): [] for c in COMMANDS for t in trees}
    for _ in range(args.repeats):
        for command in COMMANDS:
            for name, tree in trees.items():
                times[(tuple(command), name)].append(wall(command, tree))
    header = "| command | " + " | ".join(f"{t} s" for t in trees) + (
        " | now / before |" if args.baseline else " |")
    print(header)
    print("| --- |" + " ---: |" * (len(trees) + bool(args.baseline)))
    for command in COMMANDS:
        med = {t: statistics.median(times[(tuple(command), t)]) for t in trees}
        row = f"| `genjax {' '.join(command)}` | " + " | ".join(f"{med[t]:.2f}" for t in trees)
        if args.baseline:
            row += f" | {med['now'] / med['before']:.2f}x"
        print(row + " |")


if __name__ == "__main__":
    main()
