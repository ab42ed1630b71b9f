"""``genjax train | sample | eval | export | fid | style | augment | configs``: the command
line of genjax."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from genjax.core.files import WorkdirError, workdir_path

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

EPILOG_STYLE = """\
examples:
  genjax style --content astronaut --style gravel --out astronaut_gravel.png \\
      --vgg-weights vgg19-dcbe5bb1.pth
  genjax style --content photo.jpg --style painting.png --out out.png --steps 300 --size 256
  genjax style --content chelsea --style brick --out c.png --optimizer lbfgs --steps 100
  genjax style --content coffee --style grass --out t.png --vgg-weights random --size 64

Demo images (scikit-image, pip install 'genjax-models[style]'): astronaut, chelsea, coffee,
rocket and the textures brick, grass, gravel. The VGG-19 weights (torchvision's
vgg19-dcbe5bb1.pth, or the Caffe-normalised vgg19-d01eb7cb.pth with --vgg-input caffe) cannot
be downloaded by genjax: pass the file or set $GENJAX_VGG_WEIGHTS; it is converted once and
cached in ~/.cache/genjax/vgg. --vgg-weights random runs the whole loop on random weights, whose
features mean nothing (a test and timing aid, not a style transfer).
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
    ``argv`` runs one of them, asks for the help of one on a run (that run's family's options)
    or when no ``argv`` is given (every family's)."""
    command = next((a for a in argv if not a.startswith("-")), None) if argv is not None else None
    # `genjax sample --help` imports no family (JAX): the options shown are the general ones,
    # `genjax sample RUN --help` adds that run's family's; running `sample` / `eval` declares
    # every family's, so an option the run's family lacks gets the family's own message
    helping = argv is not None and bool({"-h", "--help"} & set(argv))
    sampling = command in ("sample", "eval")
    run_family = _family_in(argv, command) if sampling and helping else None
    full = argv is None or (sampling and not helping) or run_family is not None
    only = {run_family} if run_family else None
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

    sample = sub.add_parser("sample", help="write samples from a run's latest checkpoint",
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    sample.add_argument("workdir", help="a run folder written by `genjax train`, or a file "
                                        "written by `genjax export`")
    sample.add_argument("--num", type=int, default=64, help="number of samples (default 64)")
    sample.add_argument("--seed", type=int, default=0, help="sampling seed (default 0)")
    sample.add_argument("--out", required=True,
                        help="output file in a format of the data's modality, or a folder "
                             "ending in / for one file per sample (images .png, audio .wav, "
                             "text .txt): "
                             + ("; ".join(f"{m.name}: {', '.join(m.sample_formats)}"
                                          for m in _modalities().values()) if full
                                else "e.g. .png or .npz for images (`genjax sample RUN --help` "
                                     "lists them all)"))
    if full:
        _add_sample_options(sample, only)
    else:
        sample.epilog = SAMPLE_OPTIONS_NOTE

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
        _add_sample_options(evaluate, only)  # override eval.sample_options
    else:
        evaluate.epilog = EPILOG_EVAL + "\n" + SAMPLE_OPTIONS_NOTE

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

    style = sub.add_parser(
        "style", help="neural style transfer: optimise an image to match a content image's "
                      "VGG-19 features and a style image's Gram matrices",
        epilog=EPILOG_STYLE, formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_style_arguments(style)
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


def _add_style_arguments(style: argparse.ArgumentParser) -> None:
    """The flags of ``genjax style``; their defaults are ``StyleSettings``' (written out
    here because importing ``genjax.app.style`` for them would slow down ``--help``)."""
    style.add_argument("--content", required=True,
                       help="content image: a PNG/JPEG path or a demo name (astronaut, "
                            "chelsea, coffee, rocket, brick, grass, gravel)")
    style.add_argument("--style", required=True, help="style image: a path or a demo name")
    style.add_argument("--out", required=True, help="the .png file to write")
    style.add_argument("--steps", type=int, default=300, help="optimiser steps (default 300)")
    style.add_argument("--size", type=int, default=256,
                       help="the content image's longer side in pixels (default 256)")
    style.add_argument("--optimizer", choices=("adam", "lbfgs"), default="adam",
                       help="adam (default; pixels clipped to [0, 1] each step) or lbfgs "
                            "(optax.lbfgs with line search)")
    style.add_argument("--lr", type=float, default=0.02,
                       help="Adam's learning rate on [0, 1] pixels (default 0.02)")
    style.add_argument("--content-weight", type=float, default=1.0, help="default 1")
    style.add_argument("--style-weight", type=float, default=1e6, help="default 1e6")
    style.add_argument("--tv-weight", type=float, default=10.0,
                       help="squared total variation weight (default 10)")
    style.add_argument("--content-layers", default="conv4_2",
                       help="comma list of VGG-19 layers (default conv4_2)")
    style.add_argument("--style-layers", default="relu1_1,relu2_1,relu3_1,relu4_1,relu5_1",
                       help="comma list of VGG-19 layers (default relu1_1,...,relu5_1)")
    style.add_argument("--init", choices=("content", "noise"), default="content",
                       help="start from the content image (default) or uniform noise")
    style.add_argument("--seed", type=int, default=0, help="noise seed (default 0)")
    style.add_argument("--log-every", type=int, default=50,
                       help="steps per compiled chunk and progress line (default 50)")
    style.add_argument("--vgg-weights",
                       help="vgg19-dcbe5bb1.pth, a converted .npz, or 'random' (meaningless "
                            "features: tests and timing only); default $GENJAX_VGG_WEIGHTS")
    style.add_argument("--vgg-input", choices=("torchvision", "caffe"), default="torchvision",
                       help="the weights' input normalisation (default torchvision: ImageNet "
                            "mean/std; caffe: BGR 0..255 less the mean)")
    style.add_argument("--pooling", choices=("max", "avg"), default="max",
                       help="VGG pooling (default max, as trained; avg as Gatys et al. "
                            "suggest)")


def _version_text() -> str:
    from genjax._version import __version__

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
    from genjax.app.training import train_run

    train_run(config, workdir_path(args.workdir), name=args.config,
              allow_config_change=args.allow_config_change,
              restart_from_scratch=args.restart_from_scratch)


def _modalities():
    from genjax.modalities import modalities

    return modalities()


def _families() -> dict:
    """Each family once (aliases dropped), by name."""
    from genjax.families import families

    return {f.name: f for f in families().values()}


def _family_in(argv: list[str], command: str) -> str | None:
    """The family of the run folder (or ``genjax export`` file) named in ``sample`` / ``eval``
    arguments, read from its ``config.json`` (or header) without importing JAX; ``None`` when
    no argument is one."""
    import zipfile

    for token in argv[argv.index(command) + 1:]:
        path = Path(token)
        if token.startswith("-"):
            continue
        try:
            if (path / "config.json").is_file():
                name = json.loads((path / "config.json").read_text()).get("family", "")
            elif zipfile.is_zipfile(path):
                with zipfile.ZipFile(path) as zf:
                    name = json.loads(zf.read("header.json")).get("family", "")
            else:
                continue
        except (OSError, ValueError, KeyError, AttributeError):
            continue  # not readable here: `genjax sample` itself says what is wrong with it
        if name:
            return name
    return None


SAMPLE_OPTIONS_NOTE = """\
sampler options (--steps, --sampler, --label, --guidance, --temperature, ...) are declared by
each model family: `genjax sample RUN --help` lists those of RUN's family, and
`genjax configs --families` the options of every family.
"""


def _add_sample_options(sample: argparse.ArgumentParser, only: set[str] | None = None) -> None:
    """One flag per sample option any family declares (of the families in ``only``, where
    given: a name or a former name); the help says which families take it."""
    known = _families()
    if only is not None:
        from genjax.families import families

        aliases = families()
        only = {aliases[name].name for name in only if name in aliases} or None
    options: dict[str, list] = {}
    for family in known.values():
        if only is not None and family.name not in only:
            continue
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
    workdir = workdir_path(args.workdir)
    out = Path(args.out)
    # `--out DIR/` (or an existing folder): one file per sample
    to_folder = args.out.endswith(("/", os.sep)) or out.is_dir()
    if workdir.is_file():  # a `genjax export` file: no dataset, no run folder
        from genjax.app.export import load_export

        config, experiment, state = load_export(workdir)
    else:
        config, experiment, state = load_run(workdir)
    modality, abilities = experiment.modality, experiment.objective.capabilities
    try:
        if to_folder:
            modality.check_folder_output(out)
        else:
            modality.check_output(out)
    except ValueError as err:
        raise WorkdirError(str(err)) from err
    _check_out_folder(out / "sample" if to_folder else out)
    if not abilities.sample:
        raise WorkdirError(abilities.cannot_sample)
    options = _sample_options(args, experiment.objective, config.family)
    if not to_folder and out.suffix not in modality.streamed_formats():  # held at once
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
        if to_folder:
            modality.save_folder(chunks, args.num, out)
        else:
            modality.save_chunks(chunks, args.num, out)
    except ValueError as err:  # an option value the model cannot take; the message says why
        raise WorkdirError(str(err)) from err
    except OSError as err:  # disk full, a folder made read-only meanwhile
        raise WorkdirError(f"cannot write {out} ({err.strerror or err}); free space or "
                           "choose another --out") from err
    print(f"genjax: wrote {args.num} samples to {out}"
          + (f"/ (one {modality.sample_file()[0]} file each)" if to_folder else ""))


def cmd_export(args: argparse.Namespace) -> None:
    from genjax.app.export import export_run

    workdir, out = workdir_path(args.workdir), Path(args.out)
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
    workdir = workdir_path(args.workdir)
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


def cmd_style(args: argparse.Namespace) -> None:
    from genjax.app.style import StyleSettings, style_transfer

    _check_seed_arg(args.seed)
    _check_out_folder(Path(args.out))
    settings = StyleSettings(
        steps=args.steps, size=args.size, optimizer=args.optimizer, lr=args.lr,
        content_weight=args.content_weight, style_weight=args.style_weight,
        tv_weight=args.tv_weight, content_layers=_layer_list(args.content_layers),
        style_layers=_layer_list(args.style_layers), init=args.init, seed=args.seed,
        log_every=args.log_every, vgg_input=args.vgg_input, pooling=args.pooling)
    summary = style_transfer(args.content, args.style, args.out, settings,
                             vgg_weights=args.vgg_weights,
                             report=lambda line: print(f"genjax: {line}", file=sys.stderr,
                                                       flush=True))
    summary.pop("history")
    print(json.dumps(summary, sort_keys=True))


def _layer_list(text: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in text.split(",") if name.strip())

def cmd_augment(args: argparse.Namespace) -> None:
    from genjax.app.augment import Settings, augment_runs, parse_fractions
    from genjax.app.evaluate import json_safe
    from genjax.core.loop import stop_on_signals

    settings = Settings(fractions=parse_fractions(args.real_fraction), seeds=args.seeds,
                        synthetic=args.synthetic)
    if args.synthetic < 0:
        raise WorkdirError(f"--synthetic must be >= 0 (0: as many as the real train split), "
                           f"got {args.synthetic}")
    from genjax.app.training import check_writable

    workdir = workdir_path(args.workdir)
    check_writable(workdir)
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
        from genjax.app.training import configure_jax

        configure_jax()
    from genjax.config import ConfigError

    def usage_errors() -> tuple[type[BaseException], ...]:
        """Errors printed as one line with exit 2 (imported only when one is raised)."""
        from genjax.app.fid import EvalInputError
        from genjax.app.style import StyleInputError
        from genjax.data import DatasetError
        from genjax.metrics.inception import InceptionWeightsError
        from genjax.nn.vgg import VGGWeightsError

        return (ConfigError, WorkdirError, DatasetError, EvalInputError,
                InceptionWeightsError, StyleInputError, VGGWeightsError)

    def run_errors() -> tuple[type[BaseException], ...]:
        """Errors printed as one line with exit 1."""
        from genjax.app.style import StyleDivergedError
        from genjax.core.checkpoint import CheckpointError
        from genjax.core.loop import NonFiniteLossError

        return (CheckpointError, NonFiniteLossError, StyleDivergedError)

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
        elif args.command == "style":
            cmd_style(args)
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
