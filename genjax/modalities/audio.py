"""The audio modality: mono 16 kHz waveforms in [-1, 1], ``.wav`` / ``.npz`` / log-mel PNG.

Records hold ``"audio"`` int16 clips (``genjax.data.speech``: ``spoken_digits``); models see
float32 ``(B, T)`` in [-1, 1] (``x / 32768``) and generate the same. Samples are written as

* ``.wav``: one 16-bit PCM mono file at ``SAMPLE_RATE``, the clips one after another with
  ``GAP_SECONDS`` of silence between them (the training loop's sample file);
* ``.npz``: ``audio`` float32 ``(N, T)`` (written chunk by chunk: any ``--num``);
* ``.png``: a grid of log-mel spectrograms (``log_mel``: 25 ms Hann frames, 10 ms hop,
  ``MEL_BANDS`` HTK mel bands).

``genjax eval``'s sample metrics:

* the SC09 protocol (as the WaveGAN and DiffWave papers score spoken digits): on a labelled
  dataset, the spoken-digit classifier ``classifier_spoken_digits`` (a log-mel front end and
  a small conv net, trained once by our own loop on the train split and cached, like the
  image digit classifier) gives ``domain_fid`` / ``domain_kid`` / precision-recall /
  density-coverage of its penultimate features, the Inception-style score of its
  predictions (``domain_is``), class shares and the KL from uniform; each with its
  real-train-vs-test ``_floor``;
* ``mel_fd``: the Frechet distance between Gaussian fits of the clips' time-averaged log-mel
  vectors, samples against the test split (an FID on hand-made spectral features, 0 for
  identical distributions; it ignores word identity and order in time);
* ``level``: the mean RMS level in dBFS of the samples and of the test clips, and the share of
  samples below ``SILENT_DBFS`` (a model that outputs silence shows it).
"""

from __future__ import annotations

import logging
import math
import wave
from pathlib import Path
from typing import Any

import numpy as np

from genjax.data.pipeline import audio_to_float
from genjax.data.speech import AUDIO_KEY, SAMPLE_RATE
from genjax.data.tfds import DatasetError, centre_clip
from genjax.metrics.features import FEATURE_METRICS
from genjax.modalities import Modality, Reading, sample_chunks, write_npz_rows
from genjax.modalities._features import feature_quality, feature_readings

log = logging.getLogger(__name__)

#: Silence between clips in a ``.wav`` of several samples.
GAP_SECONDS = 0.25
MEL_BANDS = 40
FRAME = 400  # 25 ms at 16 kHz
HOP = 160  # 10 ms
#: A sample quieter than this RMS level (dB relative to full scale) counts as silent.
SILENT_DBFS = -50.0


def to_int16(samples: np.ndarray) -> np.ndarray:
    """Waveforms in [-1, 1] as int16 PCM (``rint(x * 32767)``, clipped)."""
    x = np.clip(np.asarray(samples, np.float64), -1.0, 1.0)
    return np.rint(x * 32767.0).astype(np.int16)


def _clips(samples: np.ndarray) -> np.ndarray:
    samples = np.asarray(samples)
    if samples.ndim != 2:
        raise ValueError(f"audio samples are (N, T) waveforms, got shape {samples.shape}")
    return samples


def save_wav(samples: np.ndarray, path: str | Path, rate: int = SAMPLE_RATE,
             gap: float = GAP_SECONDS) -> Path:
    """Writes waveforms ``(N, T)`` in [-1, 1] as one mono 16-bit WAV, ``gap`` seconds of
    silence between clips."""
    clips = to_int16(_clips(samples))
    silence = np.zeros(int(round(gap * rate)), np.int16)
    parts = [p for i, c in enumerate(clips) for p in ((silence, c) if i else (c,))]
    path = Path(path)
    with wave.open(str(path), "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(rate)
        f.writeframes(np.concatenate(parts).astype("<i2").tobytes())
    return path


def read_wav(path: str | Path) -> tuple[int, np.ndarray]:
    """``(rate, int16 samples)`` of a mono 16-bit WAV.

    Raises:
      ValueError: another kind of WAV.
    """
    with wave.open(str(path), "rb") as f:
        if f.getnchannels() != 1 or f.getsampwidth() != 2:
            raise ValueError(f"{path}: genjax reads mono 16-bit PCM WAV, got "
                             f"{f.getnchannels()} channel(s) of {8 * f.getsampwidth()} bits")
        return f.getframerate(), np.frombuffer(f.readframes(f.getnframes()), "<i2").copy()


def mel_filterbank(bands: int = MEL_BANDS, n_fft: int = FRAME, rate: int = SAMPLE_RATE
                   ) -> np.ndarray:
    """Triangular HTK-mel filters ``(bands, n_fft // 2 + 1)`` from 0 Hz to ``rate / 2``."""
    def mel(f):
        return 2595.0 * np.log10(1.0 + np.asarray(f) / 700.0)

    def hz(m):
        return 700.0 * (10.0 ** (np.asarray(m) / 2595.0) - 1.0)

    edges = hz(np.linspace(0.0, mel(rate / 2), bands + 2))
    freqs = np.linspace(0.0, rate / 2, n_fft // 2 + 1)
    lower, centre, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (freqs - lower) / (centre - lower)
    falling = (upper - freqs) / (upper - centre)
    return np.maximum(0.0, np.minimum(rising, falling))


def log_mel(samples: np.ndarray, bands: int = MEL_BANDS) -> np.ndarray:
    """Log-mel power spectrograms ``(N, frames, bands)`` (natural log, floor 1e-10) of
    waveforms ``(N, T)``: Hann frames of ``FRAME`` samples every ``HOP``."""
    x = np.asarray(_clips(samples), np.float64)
    if x.shape[1] < FRAME:
        x = np.pad(x, ((0, 0), (0, FRAME - x.shape[1])))
    frames = 1 + (x.shape[1] - FRAME) // HOP
    index = np.arange(FRAME)[None, :] + HOP * np.arange(frames)[:, None]
    power = np.abs(np.fft.rfft(x[:, index] * np.hanning(FRAME), axis=-1)) ** 2
    return np.log(np.maximum(power @ mel_filterbank(bands).T, 1e-10))


def save_spectrograms(samples: np.ndarray, path: str | Path) -> Path:
    """Writes a PNG grid of the samples' log-mel spectrograms (time across, low bands at the
    bottom; one colour scale for all)."""
    from matplotlib.figure import Figure  # not pyplot: a notebook's backend stays as it is

    specs = log_mel(samples)
    n = len(specs)
    cols = math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    fig = Figure(figsize=(2.2 * cols, 1.6 * rows), dpi=100)
    axes = fig.subplots(rows, cols, squeeze=False)
    top = float(specs.max())
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < n:
            ax.imshow(specs[i].T, origin="lower", aspect="auto", vmin=top - 20.0, vmax=top,
                      cmap="magma")
    fig.tight_layout(pad=0.2)
    fig.savefig(path, format="png")
    return Path(path)


def rms_dbfs(samples: np.ndarray) -> np.ndarray:
    """RMS level of each waveform in dB relative to full scale (floor -120)."""
    rms = np.sqrt(np.mean(np.square(np.asarray(_clips(samples), np.float64)), axis=1))
    return 20.0 * np.log10(np.maximum(rms, 1e-6))


def _write_npz(chunks, num: int, path: Path) -> None:
    """``audio``: float32 (N, T) in [-1, 1], written chunk by chunk."""
    write_npz_rows(path, "audio", (np.asarray(_clips(c), np.float32) for c in chunks), num)


class AudioModality(Modality):
    """Mono waveforms ``(N, T)`` in [-1, 1] at 16 kHz; see the module docstring."""

    name = "audio"
    batch_key = AUDIO_KEY
    metrics = ("mel_fd", "level", *FEATURE_METRICS)
    domain_classifier = "classifier_spoken_digits"

    def transform(self, spec, image_size=None):
        if len(spec.shape) != 1:
            raise DatasetError(f"dataset {spec.name!r} holds audio of shape {spec.shape}; "
                               "genjax models mono clips (T,) at 16 kHz")
        return audio_to_float()

    def formats(self):
        return {".wav": save_wav,
                ".npz": lambda samples, path: _write_npz([samples], len(samples), path),
                ".png": save_spectrograms}

    def streamed_formats(self):
        return {".npz": _write_npz}

    def sample_file(self):
        return ".wav", lambda clip, path: save_wav(np.asarray(clip)[None], path)

    @property
    def loop_formats(self):
        return (".wav", ".png")  # hear the clips, see their log-mel spectrograms

    def domain_inputs(self, samples, spec, image_size=None):
        """Clips ``(B, T)`` as the classifier's ``(B, spec.shape[0])``: a shorter clip is
        centred in silence, as the dataset's words are; a longer one is refused."""
        del image_size
        clips = np.asarray(_clips(samples), np.float32)
        length = spec.shape[0]
        if clips.shape[1] > length:
            raise ValueError(f"the domain classifier of {spec.name!r} takes clips of at most "
                             f"{length} samples ({length / SAMPLE_RATE:g} s at {SAMPLE_RATE} "
                             f"Hz), got {clips.shape[1]}")
        return centre_clip(clips, length)

    def sample_quality(self, spec, samples, test_batches, names, context):
        from genjax.metrics import fid_from_features

        fake = np.concatenate(list(sample_chunks(samples, context.num_samples,
                                                 context.batch_size)))
        real = np.concatenate([b[AUDIO_KEY] for b in test_batches(context.batch_size)])
        out: dict[str, Any] = {}
        features = [n for n in names if n in FEATURE_METRICS]
        if features and spec.num_classes and context.domain_network is not None:
            out.update(feature_quality(
                self, spec, lambda i, n: fake[i * context.batch_size:][:n], test_batches,
                tuple(features), context, {"domain": (context.domain_network(), "domain_")}))
        elif features:
            log.warning("no domain classifier for dataset %s (%s): skipping %s", spec.name,
                        "no labels" if not spec.num_classes else "none given",
                        ", ".join(features))
        if "mel_fd" in names:
            out["mel_fd"] = float(fid_from_features(log_mel(real).mean(axis=1),
                                                    log_mel(fake).mean(axis=1)))
        if "level" in names:
            levels = rms_dbfs(fake)
            out["level_dbfs"] = float(levels.mean())
            out["level_dbfs_test"] = float(rms_dbfs(real).mean())
            out["silent_share"] = float(np.mean(levels < SILENT_DBFS))
        return out

    def readings(self):
        return {
            **feature_readings((("domain_", "spoken-digit classifier"),), "clips"),
            "mel_fd": Reading("Frechet distance of mean log-mel spectra, sample vs test",
                              "lower"),
            "level_dbfs": Reading("mean RMS level of the samples (dBFS)",
                                  "closer to level_dbfs_test"),
            "level_dbfs_test": Reading("mean RMS level of the test clips (dBFS)", ""),
            "silent_share": Reading("share of near-silent samples", "lower"),
        }


MODALITY = AudioModality()
