"""`genjax eval` of an audio run: the SC09-style domain metrics through the spoken-digit
classifier, the real-vs-real floor against a float64 scipy FID, and a classifier of the
wrong modality refused in one line."""

import json

import numpy as np
import pytest
import scipy.linalg

from genjax.cli import main


# a 2-step network has dead ReLU features: singular covariances (sqrtm still holds)
@pytest.mark.filterwarnings("ignore::scipy.linalg.LinAlgWarning")
def test_audio_eval_scores_samples_with_the_spoken_digit_classifier(tmp_path, capsys):
    from genjax.app.domain import load_domain_network
    from genjax.data import load_arrays
    from genjax.data.pipeline import audio_to_float

    clf, wn, img = tmp_path / "clf", tmp_path / "wavenet", tmp_path / "img"
    assert main(["train", "classifier_spoken_digits", "--workdir", str(clf),
                 "--config.data.name=spoken_digits_tiny", "--config.train.batch_size=16",
                 "--config.model.features=8", "--config.train.steps=4",
                 "--config.train.checkpoint_every=4", "--config.train.eval_every=0"]) == 0
    assert main(["train", "wavenet_tiny", "--workdir", str(wn), "--config.train.steps=2",
                 "--config.train.checkpoint_every=2", "--config.train.sample_every=0"]) == 0
    capsys.readouterr()
    assert main(["eval", str(wn), "--num-samples", "40", "--config.eval.batch_size=16",
                 f"--config.eval.classifier_dir={clf}"]) == 0
    captured = capsys.readouterr()
    results = json.loads(captured.out)
    for key in ("domain_fid", "domain_kid_mean", "domain_is_mean", "domain_precision",
                "domain_recall", "domain_density", "domain_coverage", "mel_fd", "level_dbfs"):
        assert np.isfinite(results[key]), key
    assert len(results["class_shares"]) == 10 and 0 <= results["class_kl_uniform"]
    assert 0 <= results["domain_classifier_test_accuracy"] <= 1
    assert "spoken-digit classifier features" in captured.err  # the readings table

    # the floor: all 40 train clips (fewer than --num-samples) against the 10 test clips
    net = load_domain_network(clf)
    train = audio_to_float()(load_arrays("spoken_digits_tiny", "train"))["audio"]
    test = audio_to_float()(load_arrays("spoken_digits_tiny", "test"))["audio"]
    a = np.asarray(net(train)[0], np.float64)
    b = np.asarray(net(test)[0], np.float64)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    want = (np.sum((a.mean(0) - b.mean(0)) ** 2) + np.trace(cov_a) + np.trace(cov_b)
            - 2 * np.trace(scipy.linalg.sqrtm(cov_a @ cov_b).real))
    np.testing.assert_allclose(results["domain_fid_floor"], want, rtol=1e-3, atol=1e-3)

    # an image classifier for an audio run: one line naming the fix
    assert main(["train", "classifier_mnist", "--workdir", str(img), "--config.data.name=digits",
                 "--config.train.batch_size=16", "--config.model.features=16",
                 "--config.train.steps=2", "--config.train.checkpoint_every=2",
                 "--config.train.eval_every=0"]) == 0
    capsys.readouterr()
    code = main(["eval", str(wn), "--num-samples", "4", f"--config.eval.classifier_dir={img}",
                 "--out", str(tmp_path / "wrong.json")])
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert code == 2 and "holds a classifier of image data (digits)" in err, err
    assert "genjax train classifier_spoken_digits" in err
    assert (wn / "eval.json").exists() and not (tmp_path / "wrong.json").exists()
