"""Reading prepared TFDS datasets, and the errors for names genjax cannot serve."""

import json
import pathlib
import time

import numpy as np
import pytest
import tfds_tiny_builder as tiny

from genjax.data import DatasetError, dataset_spec, default_data_dir, load_arrays, load_source
from genjax.data.tfds import FieldView


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory):
    """The tiny datasets, prepared in array_record like `tfds build` would."""
    path = tmp_path_factory.mktemp("tfds_prepared")
    tiny.prepare(tiny.GenjaxTinyImages, path)
    tiny.prepare(tiny.GenjaxTinyUnregistered, path)
    return path


@pytest.mark.parametrize("name", ["genjax_tiny_images", "genjax_tiny_unregistered"])
def test_reads_prepared_tfds_dataset(tiny_dir, name):
    source = load_source(name, "train", tiny_dir)
    assert len(source) == tiny.NUM_TRAIN
    assert isinstance(source, FieldView)  # "extra" dropped
    record = source[4]
    assert set(record) == {"image", "label"}
    np.testing.assert_array_equal(record["image"], tiny.example(4)["image"])
    assert record["label"] == 4 % 3
    records = source.__getitems__([2, 0])
    np.testing.assert_array_equal(records[0]["image"], tiny.example(2)["image"])

    test = load_arrays(name, "test", tiny_dir)
    assert test["image"].shape == (tiny.NUM_TEST, *tiny.SHAPE)
    want = [tiny.example(tiny.NUM_TRAIN + i)["label"] for i in range(tiny.NUM_TEST)]
    np.testing.assert_array_equal(test["label"], want)


def test_spec_of_prepared_tfds_dataset(tiny_dir):
    spec = dataset_spec("genjax_tiny_images", tiny_dir)
    assert spec.modality == "image"
    assert spec.shape == tiny.SHAPE
    assert spec.num_classes == 3
    assert spec.splits == {"train": tiny.NUM_TRAIN, "test": tiny.NUM_TEST}


def test_tfds_slices_pass_through(tiny_dir):
    assert len(load_source("genjax_tiny_images", "train[:5]", tiny_dir)) == 5


@pytest.mark.parametrize("name", ["mnist", "cifar10", "celeb_a"])
def test_unprepared_tfds_dataset_fails_fast_with_the_fix(tmp_path, name):
    start = time.monotonic()
    with pytest.raises(DatasetError) as info:
        load_source(name, "train", tmp_path)
    assert time.monotonic() - start < 5  # no download attempt
    message = str(info.value)
    assert f"'{name}' is not prepared in {tmp_path}" in message
    assert f"tfds build {name} --data_dir {tmp_path}" in message
    assert "--config.data.data_dir" in message
    assert "mnist_subset, digits, toy2d_ring, toy2d_grid" in message
    with pytest.raises(DatasetError, match="not prepared"):
        dataset_spec(name, tmp_path)
    assert list(tmp_path.iterdir()) == []  # nothing written


@pytest.mark.parametrize(
    ("name", "suggestion"),
    [("mnist_subsett", "mnist_subset"), ("digitz", "digits"), ("cifar_10", "cifar10")],
)
def test_unknown_name_suggests_close_match(tmp_path, name, suggestion):
    with pytest.raises(DatasetError) as info:
        load_source(name, "train", tmp_path)
    message = str(info.value)
    assert f"Unknown dataset '{name}'" in message
    assert f"'{suggestion}'" in message
    assert "mnist_subset, digits, toy2d_ring, toy2d_grid" in message


def test_unknown_name_without_match(tmp_path):
    with pytest.raises(DatasetError, match="Unknown dataset 'zzqqxx'") as info:
        dataset_spec("zzqqxx", tmp_path)
    assert "Did you mean" not in str(info.value)


def test_tfrecord_prepared_dataset_asks_for_array_record(tmp_path):
    # Data prepared by a plain `tfds build` (tfrecord) has no random access.
    # Writing tfrecord needs TensorFlow, so relabel an array_record build.
    tiny.prepare(tiny.GenjaxTinyUnregistered, tmp_path)
    info_path = tmp_path / "genjax_tiny_unregistered" / "1.0.0" / "dataset_info.json"
    info = json.loads(info_path.read_text())
    info["fileFormat"] = "tfrecord"
    info_path.write_text(json.dumps(info))
    with pytest.raises(DatasetError, match="--file_format=array_record"):
        load_source("genjax_tiny_unregistered", "train", tmp_path)


def test_default_data_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("GENJAX_DATA_DIR", str(tmp_path))
    assert default_data_dir() == tmp_path
    with pytest.raises(DatasetError, match=f"not prepared in {tmp_path}"):
        load_source("mnist", "train")
    monkeypatch.delenv("GENJAX_DATA_DIR")
    assert default_data_dir() == pathlib.Path.home() / ".cache" / "genjax" / "datasets"


def test_prepared_tfds_text_dataset_reads_as_token_windows(tmp_path):
    """A TFDS text dataset (as tiny_shakespeare / lm1b) goes through the same loader."""
    from genjax.modalities import modality_of

    tiny.prepare(tiny.GenjaxTinyText, tmp_path)
    spec = dataset_spec("genjax_tiny_text", tmp_path)
    assert spec.modality == "text" and spec.splits == {"train": 1, "test": 1}
    modality = modality_of(spec)
    for split, train in (("train", True), ("test", False)):
        windows = modality.examples(load_source("genjax_tiny_text", split, tmp_path), spec,
                                    8, train=train)
        data = tiny.TEXTS[split].encode()
        first = windows.take(np.array([len(windows) - 1]))["text"][0]
        stride = 1 if train else 8
        start = (len(windows) - 1) * stride
        assert bytes(first.astype(np.uint8)) == data[start:start + 9]


def test_tfds_audio_of_variable_length_is_read_as_centred_one_second_clips(tmp_path):
    """A prepared TFDS dataset of variable-length int16 clips (speech_commands' layout) reads
    as the audio modality's 1 s clips: shorter ones centred in silence, longer ones keeping
    their middle second."""
    from genjax.data.pipeline import audio_to_float

    tiny.prepare(tiny.GenjaxTinySpeech, tmp_path)
    spec = dataset_spec("genjax_tiny_speech", tmp_path)
    assert (spec.modality, spec.shape, spec.num_classes) == ("audio", (16000,), 12)
    assert spec.splits == {"train": tiny.SPEECH_TRAIN,
                           "test": len(tiny.SPEECH_LENGTHS) - tiny.SPEECH_TRAIN}
    source = load_source("genjax_tiny_speech", "train", tmp_path)
    for i in range(tiny.SPEECH_TRAIN):
        clip, raw = np.asarray(source[i]["audio"]), tiny.speech_clip(i)
        assert clip.shape == (16000,) and clip.dtype == np.int16
        if len(raw) <= 16000:
            before = (16000 - len(raw)) // 2
            np.testing.assert_array_equal(clip[before:before + len(raw)], raw)
            assert not clip[:before].any() and not clip[before + len(raw):].any()
        else:
            start = (len(raw) - 16000) // 2
            np.testing.assert_array_equal(clip, raw[start:start + 16000])
    batch = audio_to_float()({"audio": np.stack([source[0]["audio"]]), "label": [3]})
    np.testing.assert_allclose(batch["audio"][0, 3500], 100 / 32768)


def test_audio_features_at_another_rate_or_not_mono_are_refused_in_one_line():
    """TFDS's Audio feature needs TensorFlow to exist, so its two attributes genjax reads
    (``sample_rate``, ``shape``) stand in for it here."""
    from types import SimpleNamespace

    from genjax.data.tfds import _audio_feature

    def features(**kw):
        return {"audio": SimpleNamespace(**kw)}

    assert _audio_feature("sc", features(sample_rate=16000, shape=(None,)), "audio") == (16000,)
    assert _audio_feature("sc", features(shape=(8000,)), "audio") == (8000,)
    with pytest.raises(DatasetError, match=r"'sc' holds audio at 22050 Hz; .* 16000 Hz"):
        _audio_feature("sc", features(sample_rate=22050, shape=(None,)), "audio")
    with pytest.raises(DatasetError, match=r"shape \(None, 2\); genjax models mono clips"):
        _audio_feature("sc", features(sample_rate=16000, shape=(None, 2)), "audio")


def test_float_audio_is_kept_in_range_not_rescaled():
    from genjax.data.pipeline import audio_to_float

    out = audio_to_float()({"audio": np.array([[0.5, -1.5, 2.0]], np.float32)})["audio"]
    np.testing.assert_array_equal(out, [[0.5, -1.0, 1.0]])


def test_a_dataset_whose_features_need_tensorflow_is_one_clear_error(tmp_path, capsys):
    try:
        import tensorflow  # noqa: F401
        pytest.skip("TensorFlow is installed: TFDS reads Audio features itself")
    except ModuleNotFoundError:
        pass
    with pytest.raises(DatasetError, match=r"'genjax_tiny_audio_feature' has features that "
                                           r"TFDS reads only with TensorFlow .* tensorflow-cpu"):
        dataset_spec("genjax_tiny_audio_feature", tmp_path)
    assert "Failed to import TensorFlow" not in capsys.readouterr().out  # no banner


def test_a_wavenet_trains_and_samples_on_a_prepared_tfds_speech_dataset(tmp_path):
    from genjax.cli import main

    tiny.prepare(tiny.GenjaxTinySpeech, tmp_path / "data")
    run = tmp_path / "run"
    assert main(["train", "wavenet_tiny", "--workdir", str(run),
                 "--config.data.name=genjax_tiny_speech",
                 f"--config.data.data_dir={tmp_path / 'data'}", "--config.train.steps=2",
                 "--config.train.batch_size=4",
                 "--config.train.checkpoint_every=2", "--config.train.sample_every=0"]) == 0
    out = tmp_path / "clips.npz"
    assert main(["sample", str(run), "--num", "2", "--out", str(out)]) == 0
    assert np.load(out)["audio"].shape == (2, 32)
