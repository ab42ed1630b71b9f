"""`genjax eval` and `genjax fid` end to end, on tiny real runs."""

import json

import numpy as np
import pytest
from PIL import Image

from genjax.cli import main
from genjax.modalities import modalities

TINY_DCGAN = ["--config.train.batch_size=8", "--config.model.g_features=(16, 8, 4)",
              "--config.model.d_features=(4, 8, 16)", "--config.train.checkpoint_every=2",
              "--config.train.sample_every=0", "--config.train.steps=2"]
TINY_CLASSIFIER = ["--config.train.batch_size=32", "--config.model.features=16",
                   "--config.train.steps=20", "--config.train.checkpoint_every=20",
                   "--config.train.eval_every=0"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("eval-runs")
    assert main(["train", "dcgan_mnist", "--workdir", str(root / "gan"), *TINY_DCGAN]) == 0
    assert main(["train", "classifier_mnist", "--workdir", str(root / "clf"),
                 *TINY_CLASSIFIER]) == 0
    return root


def test_eval_of_a_classifier_averages_over_every_test_example(runs, capsys):
    """test_accuracy over all 1,000 test digits (15 batches of 64 and one of 40), checked
    against predictions made independently, example by example in NumPy."""
    from genjax.app.experiment import load_run
    from genjax.data import load_arrays
    from genjax.data.pipeline import images_to_float
    from genjax.metrics.classes import predict_in_batches

    assert main(["eval", str(runs / "clf"), "--metrics", "none"]) == 0
    printed = json.loads(capsys.readouterr().out)
    saved = json.loads((runs / "clf" / "eval.json").read_text())
    assert printed == saved and saved["test_examples"] == 1000 and saved["step"] == 20

    _, experiment, state = load_run(runs / "clf")
    test = images_to_float(32)(load_arrays("mnist_subset", "test"))
    probs = predict_in_batches(experiment.objective.predict, state.params, test["image"], 100)
    accuracy = np.mean(np.argmax(probs, 1) == test["label"])
    np.testing.assert_allclose(saved["test_accuracy"], accuracy, atol=1e-6)


def test_eval_of_a_gan_reports_domain_metrics(runs, capsys):
    out = runs / "gan_eval.json"
    assert main(["eval", str(runs / "gan"), "--num-samples", "60", "--out", str(out),
                 "--config.eval.batch_size=25",
                 f"--config.eval.classifier_dir={runs / 'clf'}"]) == 0
    result = json.loads(out.read_text())
    assert result["num_samples"] == 60 and result["family"] == "gan"
    assert np.isfinite(result["test_d_loss"])
    for name in ("domain_fid", "domain_kid_mean", "domain_is_mean", "domain_precision",
                 "domain_recall", "domain_density", "domain_coverage"):
        assert np.isfinite(result[name]), name
    assert result["domain_fid"] > 0
    assert abs(sum(result["class_shares"]) - 1) < 1e-3 and 0 < result["classes_covered"] <= 10
    assert 0 <= result["domain_classifier_test_accuracy"] <= 1
    assert not (runs / "gan" / "eval.json").exists()  # --out elsewhere writes only there


def test_eval_refuses_model_overrides_and_unknown_metrics(runs, capsys):
    code = main(["eval", str(runs / "gan"), "--config.model.latent_dim=3"])
    err = capsys.readouterr().err
    assert code == 2 and "only changes eval.* keys" in err
    code = main(["eval", str(runs / "gan"), "--metrics", "fid,bogus"])
    assert code == 2 and "unknown metric(s) bogus" in capsys.readouterr().err
    points = modalities()["points"]
    with pytest.raises(ValueError, match="do not apply to points"):
        points.parse_metrics("fid")
    assert points.parse_metrics("auto") == ("modes",)


def test_domain_classifier_is_trained_once_and_cached(tmp_path, monkeypatch, capsys):
    from genjax.app import domain
    from genjax.config import load_config

    monkeypatch.setenv("GENJAX_CACHE_DIR", str(tmp_path))
    config = load_config("dcgan_mnist")
    run_dir = domain.domain_network_for(config, steps=2)
    assert run_dir.parent == tmp_path / "classifiers"
    first = capsys.readouterr()
    assert "training the evaluation network (once, 2 steps" in first.err
    assert "training the evaluation network" not in first.out  # stdout stays the JSON's
    stamp = (run_dir / "checkpoints").stat().st_mtime_ns
    assert domain.domain_network_for(config, steps=2) == run_dir  # no retraining
    assert (run_dir / "checkpoints").stat().st_mtime_ns == stamp
    assert "training the evaluation network" not in capsys.readouterr().err
    net = domain.load_domain_network(run_dir)
    feats, probs = net(np.zeros((3, 28, 28, 1), np.float32))  # padded to 32 inside
    assert feats.shape == (3, 128) and probs.shape == (3, 10)
    np.testing.assert_allclose(probs.sum(1), 1, rtol=1e-5)


def _write_pngs(folder, images):
    folder.mkdir()
    for i, img in enumerate(images):
        Image.fromarray(img[..., 0]).save(folder / f"{i:03d}.png")


def test_fid_command_on_folders_and_npz(runs, tmp_path, capsys):
    from genjax.data import load_arrays

    test = load_arrays("mnist_subset", "test")["image"]
    a, b = test[:120], test[500:620]
    np.savez(tmp_path / "a.npz", images=a)
    _write_pngs(tmp_path / "a_png", a)
    _write_pngs(tmp_path / "b_png", b)
    clf = ["--network", "domain", "--classifier", str(runs / "clf")]

    assert main(["fid", str(tmp_path / "a.npz"), str(tmp_path / "a_png"), *clf,
                 "--save-stats", str(tmp_path / "a_stats.npz")]) == 0
    same = json.loads(capsys.readouterr().out)
    assert same["count_a"] == same["count_b"] == 120 and abs(same["fid"]) < 1e-6
    assert main(["fid", str(tmp_path / "a_stats.npz"), str(tmp_path / "b_png"), *clf]) == 0
    from_stats = json.loads(capsys.readouterr().out)
    assert main(["fid", str(tmp_path / "a_png"), str(tmp_path / "b_png"), *clf]) == 0
    direct = json.loads(capsys.readouterr().out)
    assert direct["fid"] > 0 and from_stats["count_a"] == 120  # saved with its count
    np.testing.assert_allclose(from_stats["fid"], direct["fid"], rtol=1e-9)


def test_fid_command_errors(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("GENJAX_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "empty").mkdir()
    code = main(["fid", str(tmp_path / "empty"), str(tmp_path / "empty"), "--network", "domain",
                 "--classifier", str(tmp_path)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.startswith("genjax: error:") and len(err.splitlines()) == 1
    np.savez(tmp_path / "x.npz", other=np.zeros(3))
    code = main(["fid", str(tmp_path / "x.npz"), str(tmp_path / "x.npz"), "--network",
                 "domain"])  # the inputs are checked before any classifier is trained
    assert code == 2 and "holds other" in capsys.readouterr().err
    assert not (tmp_path / "cache").exists()


def test_fid_of_two_statistics_files_needs_no_network(tmp_path, capsys, monkeypatch):
    """pytorch-fid's .npz of mu/sigma: 2048-d statistics with a closed-form distance (a
    shared eigenbasis: Tr((S1 S2)^1/2) = sum sqrt(a_i b_i)), and small random ones against
    scipy.linalg.sqrtm; no weights are given or looked for."""
    from scipy import linalg

    monkeypatch.delenv("GENJAX_INCEPTION_WEIGHTS", raising=False)
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.normal(size=(2048, 2048)))
    a, b = rng.uniform(0.1, 2, 2048), rng.uniform(0.1, 2, 2048)
    mu_a, mu_b = rng.normal(size=2048), rng.normal(size=2048)
    np.savez_compressed(tmp_path / "a.npz", mu=mu_a.astype(np.float32), sigma=(q * a) @ q.T)
    np.savez_compressed(tmp_path / "b.npz", mu=mu_b.astype(np.float32), sigma=(q * b) @ q.T)
    assert main(["fid", str(tmp_path / "a.npz"), str(tmp_path / "b.npz")]) == 0
    result = json.loads(capsys.readouterr().out)
    mu_diff = mu_a.astype(np.float32).astype(np.float64) - mu_b.astype(np.float32)
    expected = mu_diff @ mu_diff + np.sum(a + b - 2 * np.sqrt(a * b))
    np.testing.assert_allclose(result["fid"], expected, rtol=1e-8)
    assert result["count_a"] is None and result["count_b"] is None

    x, y = rng.normal(size=(40, 6)), rng.normal(size=(40, 6)) * 1.5 + 0.3
    s1, s2 = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
    np.savez(tmp_path / "c.npz", mu=x.mean(0), sigma=s1)
    np.savez(tmp_path / "d.npz", mu=y.mean(0), sigma=s2)
    assert main(["fid", str(tmp_path / "c.npz"), str(tmp_path / "d.npz")]) == 0
    small = json.loads(capsys.readouterr().out)["fid"]
    diff = x.mean(0) - y.mean(0)
    reference = diff @ diff + np.trace(s1 + s2 - 2 * linalg.sqrtm(s1 @ s2).real)
    np.testing.assert_allclose(small, reference, rtol=1e-7)


def test_fid_domain_network_defaults_to_the_cached_classifier(tmp_path, capsys, monkeypatch):
    """--network domain without --classifier trains (once) and uses the digit classifier
    genjax eval caches; a second call reuses it."""
    from genjax.app import domain
    from genjax.data import load_arrays

    real_config = domain.domain_classifier_config

    def quick(dataset, data_dir=""):  # the real config, trained for fewer steps
        config = real_config(dataset, data_dir)
        config.train.steps = config.train.checkpoint_every = config.train.eval_every = 4
        config.train.batch_size, config.model.features = 32, 16
        return config

    monkeypatch.setattr(domain, "domain_classifier_config", quick)
    monkeypatch.setenv("GENJAX_CACHE_DIR", str(tmp_path / "cache"))
    test = load_arrays("mnist_subset", "test")["image"]
    np.savez(tmp_path / "a.npz", images=test[:40])
    np.savez(tmp_path / "b.npz", images=test[500:540])
    args = ["fid", str(tmp_path / "a.npz"), str(tmp_path / "b.npz"), "--network", "domain"]
    assert main(args) == 0
    first = json.loads(capsys.readouterr().out)
    (cached,) = (tmp_path / "cache" / "classifiers").iterdir()
    assert cached.name.startswith("mnist_subset-") and first["fid"] > 0
    stamp = (cached / "checkpoints").stat().st_mtime_ns
    assert main(args) == 0
    assert json.loads(capsys.readouterr().out)["fid"] == first["fid"]
    assert (cached / "checkpoints").stat().st_mtime_ns == stamp  # not trained again


def test_missing_inception_weights_get_one_clear_error(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("GENJAX_INCEPTION_WEIGHTS", raising=False)
    np.savez(tmp_path / "a.npz", images=np.zeros((2, 8, 8, 3), np.uint8))
    code = main(["fid", str(tmp_path / "a.npz"), str(tmp_path / "a.npz"),
                 "--inception-weights", str(tmp_path / "nope.pth")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert "pt_inception-2015-12-05-6726825d.pth" in err and "GENJAX_INCEPTION_WEIGHTS" in err
    assert "--inception-weights" in err  # the flag of this command
