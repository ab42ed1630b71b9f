"""`genjax augment`: CAS and augmentation gain, against cases whose answer is known."""

import json

import numpy as np
import pytest

from genjax.app import augment
from genjax.cli import main
from genjax.data import dataset_spec, load_arrays

TINY_CGAN = ["--config.train.batch_size=8", "--config.model.g_features=(16, 8, 4)",
             "--config.model.d_features=(4, 8, 16)", "--config.train.checkpoint_every=2",
             "--config.train.sample_every=0", "--config.train.steps=2"]

TINY_CLASSIFIER = '''
import ml_collections
from genjax.configs.classifier_mnist import get_config as base

def get_config():
    config = base()
    config.model = ml_collections.ConfigDict({"features": 16, "dropout": 0.0})
    config.optim.lr = 3e-3
    config.data.image_size = 0  # 28x28: no padding (a generator's size replaces it)
    config.train.batch_size = 16
    config.train.steps = STEPS
    return config
'''


def tiny_classifier(tmp_path, steps: int):
    path = tmp_path / f"tiny_classifier_{steps}.py"
    path.write_text(TINY_CLASSIFIER.replace("STEPS", str(steps)))
    return str(path)


# -- the data side ---------------------------------------------------------------------------


def test_stratified_subset_keeps_every_class_nested_and_in_stored_order():
    labels = load_arrays("mnist_subset", "train")["label"]  # 400 per digit
    small = augment.stratified_subset(labels, 0.01, seed=0)
    assert np.array_equal(np.bincount(labels[small], minlength=10), np.full(10, 4))
    assert np.all(np.diff(small) > 0)  # ascending: stored order
    bigger = augment.stratified_subset(labels, 0.05, seed=0)
    assert np.array_equal(np.bincount(labels[bigger], minlength=10), np.full(10, 20))
    assert set(small) <= set(bigger)  # nested within a seed
    assert not np.array_equal(small, augment.stratified_subset(labels, 0.01, seed=1))
    assert np.array_equal(small, augment.stratified_subset(labels, 0.01, seed=0))
    assert np.array_equal(augment.stratified_subset(labels, 1.0, seed=2), np.arange(4000))
    # a class with 3 rows still gets one at 1%
    odd = np.array([0] * 3 + [1] * 200)
    assert np.bincount(odd[augment.stratified_subset(odd, 0.01, 0)]).tolist() == [1, 2]


def test_balanced_labels():
    assert np.array_equal(augment.balanced_labels(4000, 10), np.repeat(np.arange(10), 400))
    assert np.bincount(augment.balanced_labels(23, 10)).tolist() == [3, 3, 3] + [2] * 7


@pytest.mark.parametrize("text, message", [
    ("0", "must be in (0, 1]"), ("1.5", "must be in (0, 1]"), ("-0.1", "must be in (0, 1]"),
    ("0.1,abc", "numbers in (0, 1]"), (",", "at least one fraction"),
])
def test_bad_fractions_are_refused(text, message):
    with pytest.raises(augment.AugmentError, match=message.replace("(", r"\(")
                       .replace(")", r"\)").replace("[", r"\[").replace("]", r"\]")):
        augment.parse_fractions(text)


# -- CAS of generators whose answer is known -------------------------------------------------


def _setup(tmp_path, steps=15):
    from genjax.app.experiment import data_dir

    config = augment.classifier_config(tiny_classifier(tmp_path, steps), "mnist_subset", "",
                                       0, None)
    spec = dataset_spec(config.data.name, data_dir(config))
    train = augment.real_split(config, spec, "train")
    return config, spec, train


def test_a_perfect_generator_of_the_training_set_scores_the_real_data_accuracy(tmp_path):
    """The empirical distribution of the train split, drawn in stored order for balanced
    labels (400 of each digit, class by class, as the split is stored), IS the train split:
    the synthetic-only classifier sees the same examples in the same order with the same
    seed as the real-only one at fraction 1, so CAS equals the real-data accuracy exactly.
    A generator with the right images but shuffled labels must score near chance."""
    config, spec, train = _setup(tmp_path)

    def perfect(num, labels, seed):  # the k-th example of class c for the k-th c asked for
        images = np.empty((num, *train["image"].shape[1:]), np.float32)
        for c in np.unique(labels):
            where = np.flatnonzero(labels == c)
            images[where] = train["image"][np.flatnonzero(train["label"] == c)[:len(where)]]
        return images

    def wrong_labels(num, labels, seed):
        return perfect(num, np.random.default_rng(seed).permutation(labels), seed)

    gens = [augment.Generator("perfect", perfect, True, "train split"),
            augment.Generator("shuffled", wrong_labels, True, "train split, shuffled labels")]
    settings = augment.Settings(fractions=(1.0,), seeds=1, synthetic=4000, mixed=False)
    results = augment.run_augment(gens, config, spec, settings, tmp_path / "w", log=print)
    real = results["real"]["1"]["mean"]
    assert real > 0.2  # twice chance: it learned something, else equality says little
    assert results["generators"]["perfect"]["cas"]["mean"] == real
    assert results["generators"]["shuffled"]["cas"]["mean"] < 0.3
    assert results["generators"]["perfect"]["labels"] == augment.CONDITIONAL_LABELS


def test_real_only_accuracy_matches_an_independent_numpy_check(tmp_path):
    """(a)'s reported accuracy is the share of the 1,000 real test digits its saved
    classifier gets right, counted here from its checkpoint, example by example. Its run
    folder is locked by "another process" at first: the run waits for it, then trains."""
    from genjax.app.experiment import load_run
    from genjax.core.files import WorkdirLock
    from genjax.data.pipeline import images_to_float

    config, spec, _ = _setup(tmp_path, steps=5)
    settings = augment.Settings(fractions=(0.05,), seeds=1, synthetic=10, mixed=False)
    run = tmp_path / "w" / "runs" / "real-f0.05-s0"
    run.mkdir(parents=True)
    other = WorkdirLock(run).acquire()  # "another genjax augment" trains it, until told
    lines: list[str] = []

    def log(line: str) -> None:
        lines.append(line)
        if "another process is training it" in line:
            other.release()  # the other one is done: the next poll takes the run over

    results = augment.run_augment([], config, spec, settings, tmp_path / "w", log=log,
                                  poll_seconds=0.1)
    assert sum("another process is training it" in line for line in lines) == 1
    _, experiment, state = load_run(run)
    test = images_to_float(None)(load_arrays("mnist_subset", "test"))
    logits = np.concatenate([np.asarray(experiment.objective.predict(
        state.params, test["image"][i:i + 250])) for i in range(0, 1000, 250)])
    assert results["real"]["0.05"]["mean"] == pytest.approx(
        np.mean(np.argmax(logits, 1) == test["label"]), abs=1e-6)
    assert results["real_examples"]["0.05"] == 200
    assert json.loads((run / "augment_run.json").read_text())["train_examples"] == 200


def test_draws_of_the_wrong_shape_or_count_are_refused():
    gen = augment.Generator("g", lambda num, labels, seed: np.zeros((num, 32, 32, 1)), True)
    with pytest.raises(augment.AugmentError, match=r"shape \(20, 32, 32, 1\).*classifier "
                                                    r"takes \(20, 28, 28, 1\)"):
        augment.synthetic_set(gen, 20, 10, 0, (28, 28, 1), None)
    short = augment.Generator("g", lambda num, labels, seed: np.zeros((num - 1, 28, 28, 1)),
                              True)
    with pytest.raises(augment.AugmentError, match="shape"):
        augment.synthetic_set(short, 20, 10, 0, (28, 28, 1), None)
    nan = augment.Generator("g", lambda num, labels, seed: np.full((num, 28, 28, 1), np.nan),
                            True)
    with pytest.raises(augment.AugmentError, match="non-finite"):
        augment.synthetic_set(nan, 20, 10, 0, (28, 28, 1), None)
    # samples at the dataset's stored size are padded as the real images are (28 -> 32, -1)
    ramp = np.linspace(-1, 1, 28 * 28, dtype=np.float32).reshape(28, 28, 1)
    stored = augment.Generator("s", lambda num, labels, seed: np.stack([ramp] * num), True)
    padded, _, _ = augment.synthetic_set(stored, 20, 10, 0, (32, 32, 1), None, (28, 28, 1))
    want = np.pad(ramp, ((2, 2), (2, 2), (0, 0)), constant_values=-1.0)
    assert padded.shape == (20, 32, 32, 1) and np.array_equal(padded[7], want)
    with pytest.raises(augment.AugmentError, match="shape"):  # not the stored size: refused
        augment.synthetic_set(stored, 20, 10, 0, (32, 32, 1), None, (30, 30, 1))
    free = augment.Generator("u", lambda num, labels, seed: np.zeros((num, 28, 28, 1)), False)
    images, labels, source = augment.synthetic_set(
        free, 20, 10, 0, (28, 28, 1), lambda x: np.full(len(x), 3))
    assert source == augment.PSEUDO_LABELS and set(labels) == {3}
    with pytest.raises(augment.AugmentError, match=r"expected \(20,\) in \[0, 10\)"):
        augment.synthetic_set(free, 20, 10, 0, (28, 28, 1), lambda x: np.full(len(x), 10))


# -- end to end, through the command line ----------------------------------------------------


@pytest.fixture(scope="module")
def cgan(tmp_path_factory):
    run = tmp_path_factory.mktemp("augment-runs") / "cgan"
    assert main(["train", "cgan_mnist", "--workdir", str(run), *TINY_CGAN]) == 0
    return run


def test_augment_command_end_to_end_and_resume(cgan, tmp_path, capsys):
    work = tmp_path / "aug"
    args = ["augment", str(cgan), "--workdir", str(work),
            "--classifier-config", tiny_classifier(tmp_path, 3), "--real-fraction", "0.01",
            "--seeds", "1", "--synthetic", "30"]
    assert main(args) == 0
    out = capsys.readouterr()
    printed = json.loads(out.out)
    saved = json.loads((work / "augment.json").read_text())
    assert printed == saved
    g = saved["generators"]["cgan"]
    assert g["labels"] == augment.CONDITIONAL_LABELS and "step 2" in g["run"]
    assert 0.0 <= g["cas"]["mean"] <= 1.0 and saved["real_examples"]["0.01"] == 40
    assert g["gain"]["0.01"]["mean"] == pytest.approx(
        g["mixed"]["0.01"]["mean"] - saved["real"]["0.01"]["mean"])
    with np.load(work / "synthetic" / "cgan" / "seed0-n30.npz") as synth:  # 3 of each digit
        assert np.bincount(synth["labels"]).tolist() == [3] * 10
        assert synth["images"].shape == (30, 32, 32, 1)
    assert (work / "augment.png").read_bytes()[:4] == b"\x89PNG"
    assert "| 0.01 | 40 |" in (work / "augment.md").read_text()
    runs = sorted(p.relative_to(work).as_posix() for p in work.glob("runs/**/augment_run.json"))
    assert runs == ["runs/cgan/mixed-f0.01-s0/augment_run.json",
                    "runs/cgan/synthetic-s0/augment_run.json",
                    "runs/real-f0.01-s0/augment_run.json"]

    # a second run trains nothing: every classifier is read back from its run folder
    stamps = {p: p.stat().st_mtime_ns for p in work.glob("runs/**/checkpoints/*")}
    assert main(args) == 0
    assert json.loads(capsys.readouterr().out) == saved
    assert {p: p.stat().st_mtime_ns for p in work.glob("runs/**/checkpoints/*")} == stamps

    # a changed setting in the same workdir is refused, naming what differs
    assert main([*args[:-1], "20"]) == 2
    assert "differs in" in capsys.readouterr().err


def test_augment_refuses_what_it_cannot_use(cgan, tmp_path, capsys):
    clf, points = tmp_path / "clf", tmp_path / "points"
    assert main(["train", tiny_classifier(tmp_path, 2), "--workdir", str(clf)]) == 0
    assert main(["train", "gan_toy2d", "--workdir", str(points), "--config.train.steps=2",
                 "--config.train.checkpoint_every=2", "--config.train.sample_every=0"]) == 0
    capsys.readouterr()
    cases = [
        ([str(clf)], "cannot sample"),
        ([str(points)], "needs a generator of labelled images"),
        ([str(tmp_path / "nothing")], "no config.json"),
        ([str(cgan), "--real-fraction", "1.5"], "must be in (0, 1]"),
        ([str(cgan), "--real-fraction", "0"], "must be in (0, 1]"),
        ([str(cgan), "--classifier-config", "dcgan_mnist"], "give a classifier config"),
        ([str(cgan), "--sample-options", "sampler=ddim"], "does not take --sampler"),
    ]
    for extra, message in cases:
        assert main(["augment", *extra, "--workdir", str(tmp_path / "w")]) == 2, extra
        err = capsys.readouterr().err
        assert message in err and err.count("genjax: error:") == 1, (extra, err)


def test_eval_reports_cas_only_when_asked(cgan, tmp_path, capsys):
    """``genjax eval --config.eval.cas=True``: CAS and its floor (the same classifier on the
    real train split) from run folders under WORKDIR/cas/step_<step>/; the default eval
    trains no classifier."""
    import shutil

    from genjax.app.readings import GENERAL, explain

    run = tmp_path / "cgan"
    shutil.copytree(cgan, run)
    assert main(["eval", str(run), "--metrics", "none"]) == 0
    assert "cas" not in json.loads(capsys.readouterr().out) and not (run / "cas").exists()
    assert main(["eval", str(run), "--metrics", "none", "--config.eval.cas=True",
                 "--config.eval.cas_samples=20", "--config.eval.cas_steps=2",
                 f"--config.eval.cas_classifier={tiny_classifier(tmp_path, 2)}"]) == 0
    captured = capsys.readouterr()
    result = json.loads(captured.out)
    runs = run / "cas" / "step_2" / "runs"
    real = json.loads((runs / "real-f1-s0" / "augment_run.json").read_text())
    synth = json.loads((runs / "generator" / "synthetic-s0" / "augment_run.json").read_text())
    assert result["cas_floor"] == real["accuracy"] and real["train_examples"] == 4000
    assert result["cas"] == synth["accuracy"] and synth["train_examples"] == 20
    assert result["cas_labels"] == augment.CONDITIONAL_LABELS and result["cas_samples"] == 20
    assert "cas " in captured.err and "Classification Accuracy Score" in captured.err
    pseudo = explain({**result, "cas_labels": augment.PSEUDO_LABELS}, GENERAL)
    assert "pseudo labels" in pseudo and "pseudo labels" not in explain(result, GENERAL)
