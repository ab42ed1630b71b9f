"""The spoken-digit classifier (audio domain network): log-mel front end against a float64
DFT, level invariance, shape checks, the build's front-end errors, and the audio
modality's domain inputs."""

import numpy as np
import pytest

from genjax.data import DatasetSpec
from genjax.modalities import modality_of
from genjax.modalities.audio import FRAME, HOP, mel_filterbank

SPEC = DatasetSpec("spoken_digits_tiny", "audio", (16000,), 10, {"train": 40, "test": 10})


def reference_log_mel(clips, floor=1e-6):
    """float64: Hann frames, a DFT by explicit sums (no FFT), HTK mel bands, log."""
    clips = np.asarray(clips, np.float64)
    frames = 1 + (clips.shape[1] - FRAME) // HOP
    n = np.arange(FRAME)
    k = np.arange(FRAME // 2 + 1)
    dft = np.exp(-2j * np.pi * np.outer(n, k) / FRAME)
    window = 0.5 - 0.5 * np.cos(2 * np.pi * n / (FRAME - 1))  # symmetric Hann
    out = np.empty((len(clips), frames, mel_filterbank().shape[0]))
    for b, clip in enumerate(clips):
        for f in range(frames):
            power = np.abs((clip[f * HOP:f * HOP + FRAME] * window) @ dft) ** 2
            out[b, f] = np.log(np.maximum(mel_filterbank() @ power, floor))
    return out


def test_log_mel_front_end_matches_a_float64_dft():
    from genjax.families.classifier.network import log_mel_frames

    rng = np.random.default_rng(0)
    t = np.arange(2000) / 16000
    clips = np.stack([0.5 * np.sin(2 * np.pi * 440 * t) + 0.05 * rng.normal(size=t.size),
                      rng.uniform(-1, 1, t.size)])
    got = np.asarray(log_mel_frames(clips))
    want = reference_log_mel(clips)
    assert got.shape == want.shape == (2, 1 + (2000 - FRAME) // HOP, 40)
    np.testing.assert_allclose(got, want, atol=2e-3)


def test_classifier_is_level_invariant_and_refuses_short_or_image_inputs():
    import jax

    from genjax.families.classifier.network import SpokenDigitClassifier

    net = SpokenDigitClassifier(num_classes=10, features=16, dropout=0.3)
    clips = np.random.default_rng(1).uniform(-1, 1, (3, 1600)).astype(np.float32)
    params = net.init(jax.random.PRNGKey(0), clips)["params"]
    loud = net.apply({"params": params}, clips)
    quiet = net.apply({"params": params}, 0.25 * clips)  # log-mel shifted by ln(1/16)
    assert loud.shape == (3, 10)
    np.testing.assert_allclose(loud, quiet, atol=1e-4)
    feats = net.apply({"params": params}, np.zeros((2, 1600), np.float32), method=net.embed)
    assert feats.shape == (2, 16) and np.all(np.isfinite(feats))  # silence: no 0 / 0
    with pytest.raises(ValueError, match=r"clips \(B, T >= 400\)"):
        net.apply({"params": params}, clips[:, :100])
    with pytest.raises(ValueError, match=r"clips \(B, T >= 400\)"):
        net.apply({"params": params}, np.zeros((2, 32, 32, 1), np.float32))


def test_build_names_the_front_end_a_dataset_needs():
    from genjax.config import ConfigError, load_config
    from genjax.families.classifier.build import build

    audio = load_config("classifier_spoken_digits")
    image_spec = DatasetSpec("mnist_subset", "image", (28, 28, 1), 10, {"train": 1})
    with pytest.raises(ConfigError, match=r"set model.front_end=''"):
        build(audio, image_spec, None)
    image = load_config("classifier_mnist")
    with pytest.raises(ConfigError, match=r"set model.front_end='log_mel'"):
        build(image, SPEC, None)
    image.model.front_end = "mfcc"
    with pytest.raises(ConfigError, match=r"model.front_end 'mfcc' is unknown"):
        build(image, SPEC, None)


def test_audio_domain_inputs_centre_short_clips_and_refuse_long_ones():
    modality = modality_of(SPEC)
    clip = np.arange(1, 11, dtype=np.float32)[None] / 10
    fitted = modality.domain_inputs(clip, SPEC)
    assert fitted.shape == (1, 16000) and fitted.dtype == np.float32
    np.testing.assert_array_equal(fitted[0, 7995:8005], clip[0])
    assert not fitted[0, :7995].any() and not fitted[0, 8005:].any()
    full = np.ones((2, 16000))
    np.testing.assert_array_equal(modality.domain_inputs(full, SPEC), full)
    with pytest.raises(ValueError, match=r"at most 16000 samples \(1 s at 16000 Hz\), got 16001"):
        modality.domain_inputs(np.zeros((1, 16001)), SPEC)
