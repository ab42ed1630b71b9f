"""``genjax train | sample | eval | export | fid | augment | configs``: the command line of
genjax."""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import logging
import os
import sys
from pathlib import Path

from genjax.core.files import WorkdirError

__all__ = ["WorkdirError", "load_run", "main", "read_saved_config"]

# Startup: this module imports no JAX (nor anything that does) at import time, so `--help`,
# `--version` and `genjax configs` answer in well under a second of imports; each command
# imports what it needs when it runs.


def load_run(workdir, *args, **kwargs):
    """``genjax.app.experiment.load_run`` (imported when called: it imports JAX)."""
    from genjax.app.experiment import load_run as load

    return load(workdir, *args, **kwargs)


def read_saved_config(workdir, *args, **kwargs):
    """``genjax.app.experiment.read_saved_config`` (imported when called)."""
    from genjax.app.experiment import read_saved_config as read

    return read(workdir, *args, **kwargs)


INCEPTION_ENV = "GENJAX_INCEPTION_WEIGHTS"

EPILOG_EVAL = """\
examples:
  genjax eval runs/dcgan
  genjax eval runs/vae --num-samples 2000 --config.eval.iwae_k=100
  genjax eval runs/dcgan --metrics fid,kid --config.eval.inception_weights=PATH.pth
  genjax eval runs/ddpm_mnist --sampler dpm++ --steps 10   # the samples' sampler options

MNIST-like data is judged by a digit classifier that genjax trains once on the run's dataset
(cached in ~/.cache/genjax/classifiers); other images need the InceptionV3 FID weights.
"""

EPILOG_FID = """\
examples:
  genjax fid samples_a/ samples_b/ --inception-weights pt_inception-2015-12-05-6726825d.pth
  genjax fid a.npz b.npz --network domain          # the digit classifier genjax eval uses
  genjax fid a.npz b.npz --network domain --classifier runs/classifier
  genjax fid stats_a.npz stats_b.npz                 # precomputed mu/sigma: no network needed
"""

EPILOG_AUGMENT = """\
examples:
  genjax augment runs/cgan --workdir runs/augment --real-fraction 0.01,0.05,0.1,1.0 --seeds 3
  genjax augment runs/cgan runs/ddpm_mnist_cond --workdir runs/augment --steps 200
  genjax augment runs/ddpm_mnist_cond --workdir runs/aug --sample-options sampler=dpm++,steps=10

Trains the classifier (--classifier-config) with the same loop on (a) a class-stratified
fraction of the real train split, (b) that plus --synthetic samples of each generator and
(c) the samples alone, and tests each on the real test split. CAS (Classification Accuracy
Score) is (c)'s accuracy; the gain is (b) - (a). Writes augment.json, augment.md and
augment.png into --workdir; every classifier is a run folder under WORKDIR/runs, so a killed
command resumes. Unconditional generators get pseudo labels from the domain classifier.
"""

EPILOG_CONFIGS = """\
examples:
  genjax configs                 # every named config and what it trains
  genjax configs dcgan_mnist     # its keys: --config.KEY=VALUE changes any
  genjax configs --families      # the families and their `genjax sample` options
"""

EPILOG_TRAIN = """\
examples:
  genjax train dcgan_mnist --workdir runs/dcgan
  genjax train dcgan_mnist --workdir runs/quick --config.train.steps=50
  genjax train my_config.py --workdir runs/mine --config.optim.lr=1e-4
  genjax train dcgan_mnist --workdir runs/dp --config.parallel=sharded   # all local devices
  genjax train dcgan_mnist --workdir runs/dp --config.precision=bf16

Several hosts: run the same command on each, adding
  --config.distributed.coordinator=HOST0:1234 --config.distributed.num_processes=N
  --config.distributed.process_id=I
(or --config.distributed.auto_detect=True under SLURM / Open MPI / Kubernetes / Cloud TPU).

Re-running on a workdir with checkpoints resumes from the latest one. One trainer at a time
holds a workdir (train.lock). SIGTERM or Ctrl-C saves a checkpoint after the current step and
exits (143 / 130); re-run the same command to resume.
"""


def _parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The argument parser. The sampler options and formats of ``sample`` and ``eval`` come
    from the families and modalities (which import JAX), so they are declared only when
    ``argv`` runs one of them (or when no ``argv`` is given)."""
    command = next((a for a in argv if not a.startswith("-")), None) if argv is not None else None
    full = argv is None or command in ("sample", "eval")
    parser = argparse.ArgumentParser(
        prog="genjax", description="Train, sample and evaluate generative models in JAX.")
    parser.add_argument("--version", action="version", version=_version_text())
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    train = sub.add_parser(
        "train", help="train a config (resumes if the workdir has checkpoints)",
        epilog=EPILOG_TRAIN, formatter_class=argparse.RawDescriptionHelpFormatter)
    train.add_argument("config", help="a config name (see `genjax configs`) or a .py file path")
    train.add_argument("--workdir", required=True, help="folder for checkpoints, logs, samples")
    train.add_argument("--allow-config-change", action="store_true",
                       help="resume even if model/data/optimizer keys differ from the saved "
                            "config (the old config.json is kept as a backup)")
    train.add_argument("--restart-from-scratch", action="store_true",
                       help="start the workdir's run again from step 0: its checkpoints, "
                            "metrics, samples and config are moved to "
                            "WORKDIR/before-restart-<time>/ (never deleted)")

    sample = sub.add_parser("sample", help="write samples from a run's latest checkpoint")
    sample.add_argument("workdir", help="a run folder written by `genjax train`, or a file "
                                        "written by `genjax export`")
    sample.add_argument("--num", type=int, default=64, help="number of samples (default 64)")
    sample.add_argument("--seed", type=int, default=0, help="sampling seed (default 0)")
    sample.add_argument("--out", required=True,
                        help="output file in a format of the data's modality: "
                             + ("; ".join(f"{m.name}: {', '.join(m.sample_formats)}"
                                          for m in _modalities().values()) if full else "..."))
    if full:
        _add_sample_options(sample)

    export = sub.add_parser(
        "export", help="write a run's sampling network to one file, for `genjax sample` and "
                       "genjax.load without the dataset (no optimizer states, no "
                       "discriminator)")
    export.add_argument("workdir", help="a run folder written by `genjax train`")
    export.add_argument("--out", required=True, help="the file to write, e.g. model.genjax")

    evaluate = sub.add_parser(
        "eval", help="evaluate a run's latest checkpoint on the test split; writes eval.json",
        epilog=EPILOG_EVAL, formatter_class=argparse.RawDescriptionHelpFormatter)
    evaluate.add_argument("workdir", help="a run folder written by `genjax train`")
    evaluate.add_argument("--num-samples", type=int,
                          help="generated samples to compare (default eval.num_samples: 10000 "
                               "unless the run's config says otherwise)")
    evaluate.add_argument("--metrics",
                          help="comma list of fid,kid,is,pr,dc (images) or modes (2D data); "
                               "'auto' (default) takes what the data allows, 'none' only the "
                               "held-out numbers")
    evaluate.add_argument("--seed", type=int, default=0, help="evaluation seed (default 0)")
    evaluate.add_argument("--out", help="JSON file to write (default WORKDIR/eval.json)")
    if full:
        _add_sample_options(evaluate)  # override eval.sample_options

    fid = sub.add_parser(
        "fid", help="FID between two folders of images or two .npz files (like pytorch-fid)",
        epilog=EPILOG_FID, formatter_class=argparse.RawDescriptionHelpFormatter)
    fid.add_argument("path_a", help="a folder of .png/.jpg images, or an .npz with 'images' "
                                    "(uint8 NHWC) or precomputed 'mu' and 'sigma'")
    fid.add_argument("path_b", help="the same, for the second set")
    fid.add_argument("--network", choices=("inception", "domain"), default="inception",
                     help="feature network: InceptionV3 pool3 (needs its weights) or a "
                          "trained digit classifier run (--classifier)")
    fid.add_argument("--inception-weights",
                     help=f"pt_inception-2015-12-05-6726825d.pth (default ${INCEPTION_ENV})")
    fid.add_argument("--classifier",
                     help="classifier run folder for --network domain (default: the one "
                          "`genjax eval` trains once on --domain-dataset and caches)")
    fid.add_argument("--domain-dataset", default="mnist_subset",
                     help="dataset of the default --network domain classifier "
                          "(default mnist_subset)")
    fid.add_argument("--batch-size", type=int, default=50, help="images per call (default 50)")
    fid.add_argument("--save-stats", help="also write the statistics of PATH_A to this .npz")

    augment = sub.add_parser(
        "augment", help="generative data augmentation and the Classification Accuracy Score "
                        "(CAS) of conditional generator runs",
        epilog=EPILOG_AUGMENT, formatter_class=argparse.RawDescriptionHelpFormatter)
    augment.add_argument("generators", nargs="+", metavar="GEN_RUN",
                         help="generator run folders written by `genjax train` (one dataset)")
    augment.add_argument("--workdir", required=True,
                         help="folder for the classifier runs, augment.json/.md/.png")
    augment.add_argument("--classifier-config", default="classifier_mnist",
                         help="the classifier config (default classifier_mnist); its dataset "
                              "becomes the generators'")
    augment.add_argument("--real-fraction", default="0.01,0.05,0.1,1.0",
                         help="comma list of real train fractions in (0, 1] (default "
                              "0.01,0.05,0.1,1.0)")
    augment.add_argument("--seeds", type=int, default=3, help="seeds per number (default 3)")
    augment.add_argument("--synthetic", type=int, default=0,
                         help="synthetic examples per set (default 0: as many as the real "
                              "train split)")
    augment.add_argument("--steps", type=int,
                         help="classifier training steps (default: the classifier config's)")
    augment.add_argument("--sample-options", default="",
                         help="the generators' sampler options, e.g. sampler=dpm++,steps=10")
    augment.add_argument("--labeller", default="",
                         help="classifier run folder giving pseudo labels to unconditional "
                              "generators (default: the domain classifier genjax eval caches)")

    configs = sub.add_parser(
        "configs", help="list the named configs; with a NAME, its keys and their defaults",
        epilog=EPILOG_CONFIGS, formatter_class=argparse.RawDescriptionHelpFormatter)
    configs.add_argument("name", nargs="?",
                         help="a config name or .py file: print every key it resolves to, "
                              "its default and its one-line doc")
    configs.add_argument("--families", action="store_true",
                         help="list the model families (config.family) and their sample "
                              "options instead")
    return parser


def _version_text() -> str:
    from genjax import __version__

    return f"genjax {__version__} (Python {sys.version.split()[0]})"


def _split_overrides(argv: list[str]) -> tuple[list[str], list[str]]:
    """Separates ``--config.KEY=VALUE`` (or ``--config.KEY VALUE``) from the other arguments."""
    rest, overrides = [], []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg.startswith("--config."):
            item = arg[len("--config."):]
            if "=" not in item and i + 1 < len(argv):
                item = f"{item}={argv[i + 1]}"
                i += 1
            overrides.append(item)
        else:
            rest.append(arg)
        i += 1
    return rest, overrides


def _check_writable(workdir: Path) -> None:
    try:
        workdir.mkdir(parents=True, exist_ok=True)
        probe = workdir / f".write_test_{os.getpid()}"
        probe.write_text("ok")
        probe.unlink()
    except OSError as err:
        raise WorkdirError(
            f"workdir {workdir} is not writable ({err.strerror}); choose another --workdir"
        ) from err


def configure_jax() -> None:
    """Process-wide JAX settings of the ``genjax`` program (the library itself sets none).

    * ``jax_threefry_partitionable=False``: the partitionable threefry compiles ~5x slower on
      XLA:CPU (4.4 s against 0.8 s for one ``jax.random.normal``). Random values stay the same
      on any number of devices either way; only the bit-generation scheme differs.
    * A persistent compilation cache (``$JAX_COMPILATION_CACHE_DIR``, default
      ``~/.cache/genjax/jax``): resuming or sampling a run does not compile the same step again.
    """
    import jax

    if "JAX_THREEFRY_PARTITIONABLE" not in os.environ:
        jax.config.update("jax_threefry_partitionable", False)
    if "JAX_COMPILATION_CACHE_DIR" not in os.environ:
        jax.config.update("jax_compilation_cache_dir",
                          str(Path.home() / ".cache" / "genjax" / "jax"))
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 1.0)


def _quiet_libraries() -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    for name in ("absl", "orbax", "jax", "etils", "tensorflow_datasets"):
        logging.getLogger(name).setLevel(logging.WARNING)
    try:
        from absl import logging as absl_logging

        absl_logging.set_verbosity(absl_logging.WARNING)
    except ImportError:
        pass


def cmd_train(args: argparse.Namespace, overrides: list[str]) -> None:
    from genjax import config as gconfig

    config = gconfig.load_config(args.config)
    gconfig.apply_overrides(config, overrides)
    train_config(args, config)


def train_config(args: argparse.Namespace, config) -> None:
    """``genjax train`` of a loaded config (``genjax.train`` calls it too): ``args`` holds
    ``config`` (the name shown), ``workdir``, ``allow_config_change`` and
    ``restart_from_scratch``."""
    from genjax import config as gconfig
    from genjax.app.experiment import upgrade
    from genjax.core.files import WorkdirLock, WorkdirLockedError

    config = upgrade(config)  # a config of a former family name, in its family's schema
    gconfig.check_seed(config.seed)
    workdir = _workdir_arg(args.workdir)
    process, processes = join_hosts(config)  # before anything touches the devices
    created = not workdir.exists()
    _check_writable(workdir)
    # one trainer per workdir; the other hosts of a multi-host run share the main one's
    lock = WorkdirLock(workdir) if process == 0 else contextlib.nullcontext()
    try:
        with lock:
            _train_locked(args, config, workdir, process, processes)
    except WorkdirLockedError as err:
        raise WorkdirError(str(err)) from err
    except OSError as err:  # a run file (metrics, samples, config) could not be written
        if created:
            _remove_if_unused(workdir)
        raise WorkdirError(
            f"could not write {err.filename or workdir} ({err.strerror or err}); the "
            "checkpoints already saved are kept. Free space or fix the permissions, then "
            "re-run the same command to resume") from err
    except BaseException:
        if created:
            _remove_if_unused(workdir)
        raise


def _workdir_arg(text: str) -> Path:
    """A ``--workdir`` / ``WORKDIR`` argument; an empty one (an unset shell variable) would
    mean the current directory, so it is refused."""
    if not text.strip():
        raise WorkdirError("the workdir is empty (an unset shell variable?); name a run "
                           "folder, e.g. --workdir runs/mine")
    return Path(text)


def _remove_if_unused(workdir: Path) -> None:
    """Removes a workdir this command created when a refusal left nothing in it but the
    lock file (never a folder that holds anything else)."""
    try:
        if {p.name for p in workdir.iterdir()} <= {"train.lock"}:
            (workdir / "train.lock").unlink(missing_ok=True)
            workdir.rmdir()
    except OSError:
        pass


def _train_locked(args: argparse.Namespace, config, workdir: Path, process: int,
                  processes: int) -> None:
    """``genjax train`` once the workdir's lock is held."""
    from genjax import config as gconfig
    from genjax.app.experiment import archive_run, build, resume_conflicts
    from genjax.core.checkpoint import NoUsableCheckpointError
    from genjax.core.files import remove_stale_temps, write_atomic
    from genjax.core.loop import stop_on_signals, train

    main_process = process == 0
    saved_path = workdir / "config.json"
    conflicts = []
    if saved_path.exists() and not args.restart_from_scratch:
        conflicts = resume_conflicts(workdir, config)
        if conflicts and not args.allow_config_change:
            raise gconfig.ConfigError(
                f"{workdir} holds a run with a different config ("
                + "; ".join(conflicts[:5]) + (" ..." if len(conflicts) > 5 else "")
                + "). Use a new --workdir, or pass --allow-config-change to continue anyway."
            )
    # bad data or shapes fail here, before anything is written; each host reads its own shard
    experiment = build(config, shard_index=process, shard_count=processes)
    _sync_hosts("genjax-config-checked", processes)  # every host read config.json first
    if args.restart_from_scratch:
        archive = archive_run(workdir) if main_process else None
        if archive is not None:
            print(f"genjax: moved the previous run's files to {archive}", flush=True)
        _sync_hosts("genjax-run-archived", processes)

    def write_config(start_step: int) -> None:
        """Once the checkpoints (if any) restored into this model: a config that cannot
        resume them never replaces the one they were trained with; a finished run (at or past
        ``train.steps``) trains nothing, so its config.json stays as it was trained."""
        if not main_process:
            return
        finished = start_step >= config.train.steps
        started.append(start_step)
        if finished:
            print(f"genjax: {workdir} is already trained to step {start_step} (train.steps "
                  f"is {config.train.steps}); nothing to train. Pass "
                  f"--config.train.steps=N with N > {start_step} to train further", flush=True)
        else:
            print(f"genjax: training {args.config} ({config.family} on {config.data.name}, "
                  f"parallel={experiment.config.get('parallel', 'single')}{hosts}) "
                  + (f"from step {start_step} " if start_step else "")
                  + f"to step {config.train.steps} in {workdir}", flush=True)
        remove_stale_temps(saved_path)  # of a run killed while writing it (the lock is ours)
        if finished and saved_path.exists():
            return
        if saved_path.exists() and (conflicts or _saved_family(saved_path) != config.family):
            # a changed config, or one migrated from a former family name: keep the original
            stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
            write_atomic(workdir / f"config.before-{stamp}.json", saved_path.read_bytes())
        write_atomic(saved_path, gconfig.to_json(config) + "\n")

    hosts = f", {processes} hosts" if processes > 1 else ""
    started: list[int] = []  # the step the run starts at, once the checkpoints restored
    try:
        with stop_on_signals() as stop:
            train(experiment.objective, experiment.train_batches, workdir,
                  experiment.settings, config.seed, eval_batches=experiment.eval_batches,
                  is_main_process=main_process, make_step=experiment.make_step,
                  writer=experiment.modality, stop=stop, on_start=write_config)
    except NoUsableCheckpointError as err:
        raise WorkdirError(
            f"{err.problem}. Restore the checkpoints from a backup, or re-run with "
            "--restart-from-scratch to train again from step 0 (the old checkpoints, "
            "metrics and samples are moved aside, never deleted)") from err
    if main_process and started and started[0] < config.train.steps:
        print(f"genjax: done; samples in {workdir / 'samples'}, metrics in "
              f"{workdir / 'metrics.jsonl'}", flush=True)


def _saved_family(path: Path) -> str:
    """The ``family`` exactly as a saved ``config.json`` names it (before any migration)."""
    return json.loads(path.read_text()).get("family", "")


def join_hosts(config) -> tuple[int, int]:
    """Initializes ``jax.distributed`` from ``config.distributed`` / the environment.

    Returns:
      ``(process_index, process_count)``; ``(0, 1)`` for a single-host run.
    """
    from genjax.config import ConfigError
    from genjax.core.distributed import DistributedSettings, initialize

    d = config.get("distributed", None)
    settings = DistributedSettings() if d is None else DistributedSettings(
        coordinator=d.coordinator, num_processes=d.num_processes, process_id=d.process_id,
        auto_detect=d.auto_detect)
    try:
        return initialize(settings)
    except ValueError as err:
        raise ConfigError(str(err)) from err


def _sync_hosts(name: str, processes: int) -> None:
    if processes > 1:
        from jax.experimental import multihost_utils

        multihost_utils.sync_global_devices(name)


def _modalities():
    from genjax.modalities import modalities

    return modalities()


def _families() -> dict:
    """Each family once (aliases dropped), by name."""
    from genjax.families import families

    return {f.name: f for f in families().values()}


def _add_sample_options(sample: argparse.ArgumentParser) -> None:
    """One flag per sample option any family declares; the help says which families take it."""
    options: dict[str, list] = {}
    for family in _families().values():
        for option in family.sample_options():
            options.setdefault(option.name, []).append((family.name, option))
    group = sample.add_argument_group(
        "sampler options (declared by the families; each only for the families named)")
    for name, declared in sorted(options.items()):
        helps = dict.fromkeys(option.help for _, option in declared)
        text = (f"{next(iter(helps))} [{', '.join(f for f, _ in declared)}]" if len(helps) == 1
                else "; ".join(f"{f}: {option.help}" for f, option in declared))
        kind = declared[0][1].type
        flags = [f"--{name}"] + ([f"--{name.replace('_', '-')}"] if "_" in name else [])
        group.add_argument(*flags, type=kind, dest=f"option_{name}",
                           metavar=kind.__name__.upper(), help=text)


def _sample_options(args: argparse.Namespace, objective, family: str) -> dict:
    """The sampler options given on the command line, checked against what the objective
    declares."""
    from genjax.app.sampling import check_sample_options

    try:
        return check_sample_options(objective, _given_options(args), family)
    except ValueError as err:
        raise WorkdirError(str(err)) from err


def _given_options(args: argparse.Namespace) -> dict:
    """The ``--NAME`` sampler options given on the command line."""
    return {key[len("option_"):]: value for key, value in vars(args).items()
            if key.startswith("option_") and value is not None}


def _check_finite_options(args: argparse.Namespace) -> None:
    """A NaN or infinite float sampler option (``--guidance nan``) would write garbage."""
    import math

    for key, value in vars(args).items():
        if key.startswith("option_") and isinstance(value, float) and not math.isfinite(value):
            raise WorkdirError(f"--{key[len('option_'):]} must be a finite number, got {value}")


def _check_seed_arg(seed: int) -> None:
    from genjax.config import ConfigError, check_seed

    try:
        check_seed(seed, "--seed")
    except ConfigError as err:
        raise WorkdirError(str(err)) from err


def _check_out_folder(out: Path) -> None:
    """The folder of ``--out`` exists or can be made, and takes files (checked before any
    sampling, so a read-only folder costs nothing). A missing folder is made only when the
    file is written: a command refused meanwhile leaves no empty folder behind."""
    folder = out.parent.absolute()
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent  # the nearest existing folder: the missing ones go in there
    try:
        if not folder.is_dir():
            raise NotADirectoryError(20, "not a directory", str(folder))
        probe = folder / f".genjax-write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as err:
        raise WorkdirError(f"cannot write {out} ({err.strerror or err}); choose another --out "
                           "in a writable folder") from err


def cmd_sample(args: argparse.Namespace) -> None:
    import jax

    from genjax.app.sampling import iter_samples, max_samples

    if args.num < 1:
        raise WorkdirError(f"--num must be >= 1, got {args.num}")
    _check_seed_arg(args.seed)
    _check_finite_options(args)
    workdir = _workdir_arg(args.workdir)
    out = Path(args.out)
    if workdir.is_file():  # a `genjax export` file: no dataset, no run folder
        from genjax.app.export import load_export

        config, experiment, state = load_export(workdir)
    else:
        config, experiment, state = load_run(workdir)
    modality, abilities = experiment.modality, experiment.objective.capabilities
    try:
        modality.check_output(out)
    except ValueError as err:
        raise WorkdirError(str(err)) from err
    _check_out_folder(out)
    if not abilities.sample:
        raise WorkdirError(abilities.cannot_sample)
    options = _sample_options(args, experiment.objective, config.family)
    if out.suffix not in modality.streamed_formats():  # a picture of all samples: held at once
        try:
            bound = max_samples(experiment.objective, state, options)
        except ValueError as err:  # an option value the model cannot take; the message says why
            raise WorkdirError(str(err)) from err
        if bound is not None and args.num > bound:
            streamed = " or ".join(modality.streamed_formats())
            raise WorkdirError(
                f"--num {args.num} samples do not fit in this machine's memory at once for a "
                f"{out.suffix} file (at most {bound} here)"
                + (f"; write a {streamed} file (written chunk by chunk)" if streamed else "")
                + " or use a smaller --num")
    chunks = iter_samples(experiment.objective, state, jax.random.PRNGKey(args.seed), args.num,
                          options=options)
    try:
        modality.save_chunks(chunks, args.num, out)
    except ValueError as err:  # an option value the model cannot take; the message says why
        raise WorkdirError(str(err)) from err
    except OSError as err:  # disk full, a folder made read-only meanwhile
        raise WorkdirError(f"cannot write {out} ({err.strerror or err}); free space or "
                           "choose another --out") from err
    print(f"genjax: wrote {args.num} samples to {out}")


def cmd_export(args: argparse.Namespace) -> None:
    from genjax.app.export import export_run

    workdir, out = _workdir_arg(args.workdir), Path(args.out)
    if out.is_dir():
        raise WorkdirError(f"--out {out} is a folder; name the file to write, e.g. "
                           f"{out / 'model.genjax'}")
    _check_out_folder(out)
    done = export_run(workdir, out)
    print(f"genjax: wrote {out} ({done['family']} at step {done['step']}, {done['arrays']} "
          f"arrays, {done['bytes'] / 2**20:.1f} MiB; left out {done['arrays_left_out']} that "
          "sampling does not read: optimizer states and the like)")


def cmd_eval(args: argparse.Namespace, overrides: list[str]) -> None:
    from genjax.app.evaluate import evaluate_run, json_safe

    _check_seed_arg(args.seed)
    workdir = _workdir_arg(args.workdir)
    if args.num_samples is not None:
        overrides = [*overrides, f"eval.num_samples={args.num_samples}"]
    if args.metrics is not None:
        overrides = [*overrides, f"eval.metrics={args.metrics}"]
    out = Path(args.out) if args.out else workdir / "eval.json"
    if workdir.is_dir():  # a missing run folder gets its own message from evaluate_run
        _check_out_folder(out)  # before the evaluation, not after its results are computed
    _check_finite_options(args)
    results = evaluate_run(workdir, overrides, seed=args.seed, out=out, report=sys.stderr,
                           options=_given_options(args))
    print(json.dumps(json_safe(results), sort_keys=True, allow_nan=False))


def cmd_fid(args: argparse.Namespace) -> None:
    from genjax.app.fid import fid_between

    result = fid_between(Path(args.path_a), Path(args.path_b), network=args.network,
                         inception_weights=args.inception_weights or os.environ.get(
                             INCEPTION_ENV, ""),
                         classifier_dir=args.classifier, batch_size=args.batch_size,
                         save_stats=args.save_stats, domain_dataset=args.domain_dataset)
    print(json.dumps(result, sort_keys=True))


def cmd_augment(args: argparse.Namespace) -> None:
    from genjax.app.augment import Settings, augment_runs, parse_fractions
    from genjax.app.evaluate import json_safe
    from genjax.core.loop import stop_on_signals

    settings = Settings(fractions=parse_fractions(args.real_fraction), seeds=args.seeds,
                        synthetic=args.synthetic)
    if args.synthetic < 0:
        raise WorkdirError(f"--synthetic must be >= 0 (0: as many as the real train split), "
                           f"got {args.synthetic}")
    workdir = _workdir_arg(args.workdir)
    _check_writable(workdir)
    with stop_on_signals() as stop:
        results, paths = augment_runs(
            args.generators, workdir, args.classifier_config, settings, args.steps,
            args.sample_options, args.labeller, stop)
    print(paths["table"].read_text(), file=sys.stderr, end="")
    print(f"genjax augment: wrote {', '.join(str(p) for p in paths.values())}",
          file=sys.stderr)
    print(json.dumps(json_safe(results), sort_keys=True, allow_nan=False))


def cmd_configs(args: argparse.Namespace) -> None:
    import shutil

    width = max(60, min(shutil.get_terminal_size((100, 24)).columns, 120))
    if args.name:
        from genjax.app.configs import describe_config

        print(describe_config(args.name, width))
        return
    if not args.families:
        from genjax.app.configs import config_summaries

        print("\n".join(config_summaries(width)))
        print("\nkeys and defaults of one: genjax configs NAME; the model families and their "
              "sample options: genjax configs --families")
        return
    print("families (config.family) and their sample options:")
    families = _families()
    name_width = max(map(len, families), default=0)
    for name, family in sorted(families.items()):
        options = " ".join(f"--{o.name}" for o in family.sample_options())
        former = f" (formerly {', '.join(family.aliases)})" if family.aliases else ""
        print(f"{name:<{name_width}}  {family.summary}{former}"
              + (f"; sample {options}" if options else ""))


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``genjax`` command; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    rest, overrides = _split_overrides(argv)
    parser = _parser(rest)
    args = parser.parse_args(rest)
    if overrides and args.command not in ("train", "eval"):
        parser.error("--config.KEY=VALUE overrides only apply to `genjax train` and "
                     "(eval.* keys) `genjax eval`")
    _quiet_libraries()
    if args.command != "configs":  # listing configs needs no JAX
        configure_jax()
    from genjax.config import ConfigError

    def usage_errors() -> tuple[type[BaseException], ...]:
        """Errors printed as one line with exit 2 (imported only when one is raised)."""
        from genjax.app.fid import EvalInputError
        from genjax.data import DatasetError
        from genjax.metrics.inception import InceptionWeightsError

        return (ConfigError, WorkdirError, DatasetError, EvalInputError,
                InceptionWeightsError)

    def run_errors() -> tuple[type[BaseException], ...]:
        """Errors printed as one line with exit 1."""
        from genjax.core.checkpoint import CheckpointError
        from genjax.core.loop import NonFiniteLossError

        return (CheckpointError, NonFiniteLossError)

    def interrupted() -> type[BaseException]:
        from genjax.core.loop import TrainingInterrupted

        return TrainingInterrupted

    try:
        if args.command == "train":
            cmd_train(args, overrides)
        elif args.command == "sample":
            cmd_sample(args)
        elif args.command == "eval":
            cmd_eval(args, overrides)
        elif args.command == "export":
            cmd_export(args)
        elif args.command == "fid":
            cmd_fid(args)
        elif args.command == "augment":
            cmd_augment(args)
        else:
            cmd_configs(args)
    except (ConfigError, WorkdirError) as err:  # the common ones, without importing more
        print(f"genjax: error: {err}", file=sys.stderr)
        return 2
    except usage_errors() + run_errors() as err:
        print(f"genjax: error: {err}", file=sys.stderr)
        return 2 if isinstance(err, usage_errors()) else 1
    except interrupted() as err:  # SIGTERM / SIGINT during training: saved, resumable
        print(f"genjax: interrupted: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("genjax: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
