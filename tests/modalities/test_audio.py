"""The audio modality: WAV writer, log-mel spectrograms, sample files, transform."""

import wave

import numpy as np
import pytest
from scipy.io import wavfile

from genjax.data import DatasetSpec
from genjax.modalities import modality_of
from genjax.modalities.audio import (
    GAP_SECONDS,
    HOP,
    MEL_BANDS,
    log_mel,
    mel_filterbank,
    read_wav,
    rms_dbfs,
    save_wav,
)

SPEC = DatasetSpec("spoken_digits_tiny", "audio", (16000,), 10, {"train": 40, "test": 10})
RATE = 16000


def clips(n=3, t=800, seed=0):
    x = np.random.default_rng(seed).uniform(-1.2, 1.2, (n, t))  # some beyond full scale
    x[0, :4] = [1.0, -1.0, 0.5 / 32767, -0.5 / 32767]
    return x


def test_wav_round_trip_against_scipy_reader(tmp_path):
    x = clips()
    path = save_wav(x, tmp_path / "a.wav")
    rate, data = wavfile.read(path)  # an independent reader
    gap = int(round(GAP_SECONDS * RATE))
    assert rate == RATE and data.dtype == np.int16 and data.shape == (3 * 800 + 2 * gap,)
    expected = np.rint(np.clip(x, -1, 1) * 32767).astype(np.int16)  # float64 reference
    for i in range(3):
        start = i * (800 + gap)
        np.testing.assert_array_equal(data[start:start + 800], expected[i])
        if i:
            assert not data[start - gap:start].any()
    assert list(expected[0, :4]) == [32767, -32767, 0, 0]  # rint half to even
    assert read_wav(path)[0] == RATE
    np.testing.assert_array_equal(read_wav(path)[1], data)


def test_read_wav_refuses_stereo(tmp_path):
    path = tmp_path / "stereo.wav"
    wavfile.write(path, RATE, np.zeros((10, 2), np.int16))
    with pytest.raises(ValueError, match="mono 16-bit"):
        read_wav(path)


def test_log_mel_puts_a_tone_in_its_band():
    f = 1000.0
    t = np.arange(RATE) / RATE
    spec = log_mel(np.sin(2 * np.pi * f * t)[None])
    assert spec.shape == (1, 1 + (RATE - 400) // HOP, MEL_BANDS)
    bank = mel_filterbank()
    freqs = np.linspace(0, RATE / 2, bank.shape[1])
    band = int(np.argmax(spec[0].mean(axis=0)))
    lo, hi = freqs[bank[band] > 0][[0, -1]]
    assert lo <= f <= hi
    # the power of a unit sine: sum of the Hann-windowed bin energies near f (float64)
    window = np.hanning(400)
    expected = (np.sum(window) / 2) ** 2
    peak = np.abs(np.fft.rfft(np.sin(2 * np.pi * f * t[:400]) * window))
    assert np.isclose(peak.max() ** 2, expected, rtol=0.05)


def test_rms_dbfs_of_a_full_scale_sine():
    t = np.arange(RATE) / RATE
    levels = rms_dbfs(np.stack([np.sin(2 * np.pi * 440 * t), np.zeros(RATE)]))
    np.testing.assert_allclose(levels, [20 * np.log10(np.sqrt(0.5)), -120.0], atol=1e-3)


def test_modality_transform_and_every_sample_format(tmp_path):
    modality = modality_of(SPEC)
    assert modality.name == "audio" and modality.batch_key == "audio"
    assert modality.sample_formats == (".wav", ".npz", ".png")
    batch = {"audio": np.array([[-32768, 0, 16384, 32767]], np.int16), "label": np.array([3])}
    out = modality.transform(SPEC)(batch)
    np.testing.assert_array_equal(out["audio"], [[-1.0, 0.0, 0.5, 32767 / 32768]])
    assert out["audio"].dtype == np.float32 and out["label"].dtype == np.int32
    x = clips(n=5, t=1600) * 0.5
    for suffix in modality.sample_formats:
        path = modality.save(x, tmp_path / f"s{suffix}")
        assert path.stat().st_size > 0
    np.testing.assert_allclose(np.load(tmp_path / "s.npz")["audio"], x.astype(np.float32))
    streamed = modality.save_chunks(iter([x[:2], x[2:]]), 5, tmp_path / "t.npz")
    np.testing.assert_array_equal(np.load(streamed)["audio"], np.load(tmp_path / "s.npz")["audio"])
    with wave.open(str(tmp_path / "s.wav")) as f:
        assert f.getnframes() == 5 * 1600 + 4 * int(GAP_SECONDS * RATE)
    # the training loop writes the clips and their spectrogram grid at every sample_every
    loop = modality.write_samples(x, tmp_path / "samples" / "step_0000010")
    assert [p.name for p in loop] == ["step_0000010.wav", "step_0000010.png"]
    assert loop[0].read_bytes() == (tmp_path / "s.wav").read_bytes()
    assert loop[1].read_bytes() == (tmp_path / "s.png").read_bytes()
    with pytest.raises(ValueError, match=r"--out must end in \.wav or \.npz or \.png"):
        modality.save(x, tmp_path / "s.mp3")
    with pytest.raises(ValueError, match=r"\(N, T\) waveforms"):
        modality.save(x[:, :, None], tmp_path / "bad.wav")
    stereo = DatasetSpec("stereo", "audio", (16000, 2), None, {"train": 1})
    with pytest.raises(ValueError, match=r"genjax models mono clips"):
        modality.transform(stereo)


def test_sample_quality_is_zero_distance_for_the_test_clips_themselves():
    from genjax.modalities import EvalContext

    rng = np.random.default_rng(1)
    t = np.arange(4000) / RATE
    real = np.stack([0.3 * np.sin(2 * np.pi * rng.uniform(200, 3000) * t)
                     + 0.01 * rng.normal(size=t.size) for _ in range(12)])
    modality = modality_of(SPEC)

    def batches(size):
        for i in range(0, len(real), size):
            yield {"audio": real[i:i + size]}

    ctx = EvalContext(num_samples=12, batch_size=5, seed=0)
    same = modality.sample_quality(SPEC, lambda i, n: real[5 * i:5 * i + n], batches,
                                   ("mel_fd", "level"), ctx)
    silent = modality.sample_quality(SPEC, lambda i, n: np.zeros((n, 4000)), batches,
                                     ("mel_fd", "level"), ctx)
    # 12 clips in 40 dimensions: sqrtm of a singular covariance leaves ~1e-5
    assert abs(same["mel_fd"]) < 1e-3 and silent["mel_fd"] > 100
    assert same["silent_share"] == 0.0 and silent["silent_share"] == 1.0
    np.testing.assert_allclose(same["level_dbfs"], same["level_dbfs_test"])


def test_a_folder_gets_one_wav_per_clip(tmp_path):
    modality = modality_of(SPEC)
    x = clips(n=3, t=800) * 0.5
    written = modality.save_folder(iter([x[:2], x[2:]]), 3, tmp_path / "clips")
    assert [p.name for p in written] == ["sample_00000.wav", "sample_00001.wav",
                                         "sample_00002.wav"]
    for path, clip in zip(written, x, strict=True):
        assert path.read_bytes() == save_wav(clip[None], tmp_path / "one.wav").read_bytes()
    with pytest.raises(ValueError, match="already holds 3 sample files"):
        modality.save_folder(iter([x]), 3, tmp_path / "clips")
