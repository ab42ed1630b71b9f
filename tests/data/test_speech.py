"""The spoken-digit datasets synthesised with eSpeak NG: split by voice, clips, determinism."""

import numpy as np
import pytest

from genjax.data import DatasetError, dataset_spec, load_source, speech


def test_full_table_splits_by_voice_with_at_least_3000_clips():
    table = speech.clip_table()
    assert len(table) == len(speech.VOICES) * len(speech.TAKES) * 10 >= 3000
    assert len(set(speech.VOICES)) == len(speech.VOICES) == 78
    train = {v for _, v, _ in table if not speech.is_test_voice(v)}
    test = {v for _, v, _ in table if speech.is_test_voice(v)}
    assert train and test and not train & test
    assert len(test) == 15 and len(train) == 63
    # every digit is spoken by every voice in every take
    assert len(set(table)) == len(table)


@pytest.fixture(scope="module")
def tiny():
    return speech.spoken_digits_arrays(tiny=True)


def test_tiny_splits_are_disjoint_by_voice_and_hold_every_digit(tiny):
    train, test = tiny["train"], tiny["test"]
    assert not set(train["voice"]) & set(test["voice"])
    assert all(speech.is_test_voice(v) for v in test["voice"])
    assert not any(speech.is_test_voice(v) for v in train["voice"])
    for split in (train, test):
        assert sorted(np.unique(split["label"])) == list(range(10))
        assert np.all(np.bincount(split["label"]) == len(np.unique(split["voice"])))


def test_tiny_clips_are_one_second_int16_peak_normalised(tiny):
    audio = tiny["train"][speech.AUDIO_KEY]
    assert audio.dtype == np.int16 and audio.shape == (40, speech.SAMPLE_RATE)
    assert np.all(np.abs(audio.astype(np.int32)).max(axis=1) == 32767)
    # speech, not silence: a good part of each clip is above 1% of full scale
    loud = (np.abs(audio.astype(np.float64)) > 0.01 * 32767).mean(axis=1)
    assert np.all(loud > 0.1), loud
    # clips differ between voices and digits
    assert len({a.tobytes() for a in audio}) == len(audio)


def test_synthesis_is_deterministic_and_depends_on_voice():
    items = [("seven", "en-us+m3", 160, 45, 7), ("seven", "en-us+m3", 160, 45, 7),
             ("seven", "en+f2", 160, 45, 7)]
    first, rate = speech.speak(items)
    again, _ = speech.speak(items[:1])
    assert rate == 22050
    np.testing.assert_array_equal(first[0], first[1])  # repeated in one worker
    np.testing.assert_array_equal(first[0], again[0])  # and in another process
    assert first[0].shape != first[2].shape or not np.array_equal(first[0], first[2])


def test_fit_clip_trims_resamples_and_centres_a_tone():
    rate, f = 22050, 440.0
    t = np.arange(int(0.5 * rate)) / rate
    raw = np.concatenate([np.zeros(3000), 0.25 * np.sin(2 * np.pi * f * t), np.zeros(9000)])
    clip = speech.fit_clip(np.rint(raw * 32767).astype(np.int16), rate).astype(np.float64)
    assert clip.shape == (speech.CLIP_SAMPLES,) and np.abs(clip).max() == 32767
    loud = np.flatnonzero(np.abs(clip) > 0.05 * 32767)
    # 0.5 s of tone is 8,000 samples at 16 kHz, centred in the second
    assert abs((loud[-1] - loud[0] + 1) - 8000) <= 4
    assert abs((loud[0] + loud[-1]) / 2 - speech.CLIP_SAMPLES / 2) <= 4
    spectrum = np.abs(np.fft.rfft(clip))
    assert abs(np.argmax(spectrum) * speech.SAMPLE_RATE / len(clip) - f) <= 1.0


def test_missing_audio_extra_is_one_line_naming_it(monkeypatch):
    monkeypatch.setattr(speech, "EXTRA_MODULES", (("espeakng-loader", "no_such_module_x"),))
    with pytest.raises(DatasetError, match=r'espeakng-loader.*pip install -e "\.\[audio\]"'):
        speech.speak([("one", "en", 160, 50, 1)])


def test_embedded_dataset_spec_and_records():
    spec = dataset_spec("spoken_digits_tiny")
    assert spec.modality == "audio" and spec.shape == (speech.CLIP_SAMPLES,)
    assert spec.num_classes == 10 and spec.splits == {"train": 40, "test": 10}
    record = load_source("spoken_digits_tiny", "test")[0]
    assert record["audio"].dtype == np.int16 and int(record["label"]) == 0


def test_cli_names_the_missing_extra_in_one_line(monkeypatch, tmp_path, capsys):
    from genjax.cli import main

    monkeypatch.setenv("GENJAX_DATA_DIR", str(tmp_path / "data"))  # nothing built yet
    monkeypatch.setattr(speech, "EXTRA_MODULES", (("espeakng-loader", "no_such_module_x"),))
    code = main(["train", "wavenet_tiny", "--workdir", str(tmp_path / "run")])
    err = [line for line in capsys.readouterr().err.splitlines() if "genjax:" in line]
    assert code != 0 and len(err) == 1, err
    assert err[0].startswith("genjax: error: ") and '".[audio]"' in err[0]
    assert not (tmp_path / "run" / "checkpoints").exists()
