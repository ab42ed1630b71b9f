"""`genjax eval` explains itself: a table of every number on stderr, caveats only where they
hold, the real-vs-real floor beside the image metrics, stdout still one JSON line."""

import json

import numpy as np
import scipy.linalg

from genjax.app.readings import GENERAL, caveats, explain
from genjax.cli import main
from genjax.modalities import modalities

IMAGE = {**GENERAL, **modalities()["image"].readings()}
BLURRY = "typical of a VAE's blurry means"
FEW = "biased upward"


def test_blurry_means_caveat_only_when_precision_is_high_and_recall_low():
    vae = {"domain_precision": 0.991, "domain_recall": 0.208, "num_samples": 10_000}
    gan = {"domain_precision": 0.914, "domain_recall": 0.396, "num_samples": 10_000}
    real = {"domain_precision": 0.96, "domain_recall": 0.93, "num_samples": 10_000}
    assert any(BLURRY in n for n in caveats(vae, IMAGE))
    assert not any(BLURRY in n for n in caveats(gan, IMAGE))
    assert not any(BLURRY in n for n in caveats(real, IMAGE))


def test_few_samples_caveat_follows_num_samples():
    assert any(FEW in n for n in caveats({"domain_fid": 600.0, "num_samples": 500}, IMAGE))
    assert not caveats({"domain_fid": 600.0, "num_samples": 10_000}, IMAGE)
    assert not caveats({"num_samples": 500}, IMAGE)  # no FID asked for: nothing to warn of


def test_table_rows_values_floor_and_generic_held_out_reading():
    results = {"family": "vae", "dataset": "mnist_subset", "step": 7, "workdir": "w",
               "test_elbo": -119.4, "test_recon": 80.5, "test_nll_iwae_100": 110.2,
               "domain_fid": 660.0, "domain_fid_floor": 23.2, "num_samples": 10_000,
               "class_shares": [0.1] * 10}
    lines = explain(results, IMAGE).splitlines()
    rows = {line.split()[0]: line for line in lines[1:]}
    assert set(rows) >= {"test_elbo", "test_recon", "domain_fid", "num_samples"}
    assert "domain_fid_floor" not in rows and "workdir" not in rows
    assert rows["domain_fid"].split()[1:3] == ["660", "23.2"]
    assert "IWAE bound" in rows["test_nll_iwae_100"] and "k=100" in rows["test_nll_iwae_100"]
    assert "higher" in rows["test_elbo"] and "averaged over every test example" in rows[
        "test_recon"]


def test_eval_of_a_toy_run_prints_a_table_of_every_number_and_one_json_line(
        tmp_path, capsys):
    workdir = tmp_path / "toy"
    assert main(["train", "gan_toy2d", "--workdir", str(workdir), "--config.train.steps=2",
                 "--config.train.checkpoint_every=2", "--config.train.sample_every=0"]) == 0
    capsys.readouterr()
    assert main(["eval", str(workdir), "--metrics", "modes", "--num-samples", "200"]) == 0
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert len(lines) == 1
    results = json.loads(lines[0])
    numbers = [k for k, v in results.items()  # None: a NaN or infinite number in JSON
               if v is None or isinstance(v, int | float) and not isinstance(v, bool)]
    assert {"modes", "high_quality", "reverse_kl", "test_d_loss"} <= set(numbers)
    table = captured.err[captured.err.index("genjax eval: gan"):].splitlines()
    listed = {line.split()[0] for line in table[1:] if line.startswith("  ")}
    assert set(numbers) <= listed
    assert "sampling 200 samples" in captured.err
    assert "mixture modes with at least one high-quality sample" in captured.err
    assert "note:" not in captured.err  # no caveat holds for mode coverage


def test_image_eval_floor_matches_scipy_and_the_few_samples_note(tmp_path, capsys):
    """The floor: 60 train digits evenly spaced over the split (it is stored class by
    class: the first 60 would all be zeros) against the test split through the same domain
    network, checked against a float64 scipy FID of those features."""
    from genjax.app.domain import load_domain_network
    from genjax.data import load_arrays
    from genjax.data.pipeline import images_to_float

    clf, gan = tmp_path / "clf", tmp_path / "gan"
    assert main(["train", "classifier_mnist", "--workdir", str(clf),
                 "--config.train.batch_size=32", "--config.model.features=16",
                 "--config.train.steps=20", "--config.train.checkpoint_every=20",
                 "--config.train.eval_every=0"]) == 0
    assert main(["train", "dcgan_mnist", "--workdir", str(gan), "--config.train.batch_size=8",
                 "--config.model.g_features=(16, 8, 4)", "--config.model.d_features=(4, 8, 16)",
                 "--config.train.checkpoint_every=2", "--config.train.sample_every=0",
                 "--config.train.steps=2"]) == 0
    capsys.readouterr()
    assert main(["eval", str(gan), "--num-samples", "60", "--metrics", "fid",
                 "--config.eval.batch_size=25", f"--config.eval.classifier_dir={clf}"]) == 0
    captured = capsys.readouterr()
    results = json.loads(captured.out)
    assert len(captured.out.splitlines()) == 1

    net = load_domain_network(clf)
    arrays = load_arrays("mnist_subset", "train")
    rows = [i * len(arrays["label"]) // 60 for i in range(60)]
    assert np.bincount(arrays["label"][rows], minlength=10).tolist() == [6] * 10
    train = images_to_float()(arrays)["image"][rows]
    test = images_to_float()(load_arrays("mnist_subset", "test"))["image"]
    a = np.asarray(net(train)[0], np.float64)
    b = np.concatenate([net(test[i:i + 250])[0] for i in range(0, len(test), 250)]
                       ).astype(np.float64)
    covmean = scipy.linalg.sqrtm(np.cov(a, rowvar=False) @ np.cov(b, rowvar=False)).real
    want = (np.sum((a.mean(0) - b.mean(0)) ** 2) + np.trace(np.cov(a, rowvar=False))
            + np.trace(np.cov(b, rowvar=False)) - 2 * np.trace(covmean))
    np.testing.assert_allclose(results["domain_fid_floor"], want, rtol=1e-3)
    row = next(line for line in captured.err.splitlines() if line.startswith("  domain_fid "))
    assert row.split()[2] == f"{results['domain_fid_floor']:.4g}"
    assert FEW in captured.err and BLURRY not in captured.err


def test_a_negative_bits_per_dim_is_called_out():
    from genjax.modalities import modalities

    image = modalities()["image"].readings()
    note = "below 0, which no model of dequantized 8-bit data can reach"
    assert any(note in n for n in caveats({"test_bpd": -0.14}, {**GENERAL, **image}))
    assert not any(note in n for n in caveats({"test_bpd": 1.2}, {**GENERAL, **image}))
