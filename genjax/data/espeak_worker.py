"""Speaks words with eSpeak NG (``espeakng-loader``'s bundled libespeak-ng, through ctypes).

Run as a script, never imported by genjax (``genjax.data.speech`` starts it in a fresh
interpreter holding no JAX threads)::

    python espeak_worker.py OUT.npz < items.json

``items.json`` is a list of ``[text, voice, rate_wpm, pitch, seed]``; ``OUT.npz`` gets
``audio`` (every clip's int16 samples at the library's rate, concatenated), ``lengths`` and
``rate``. libespeak-ng keeps state between utterances (the same call twice gives slightly
different audio), so each clip is spoken in a child forked from the freshly initialised
library: a clip is a function of its item alone.

eSpeak NG is GPL-3.0: it only builds data (the optional ``audio`` extra), genjax links nothing
of it.
"""

from __future__ import annotations

import ctypes
import json
import os
import sys

import numpy as np

AUDIO_OUTPUT_SYNCHRONOUS = 2
POS_CHARACTER = 1
ESPEAK_RATE, ESPEAK_PITCH = 1, 3

_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int,
                             ctypes.c_void_p)


def _library():
    import espeakng_loader

    lib = ctypes.CDLL(espeakng_loader.get_library_path())
    lib.espeak_Initialize.restype = ctypes.c_int
    lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
    lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
    lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
    lib.espeak_Synth.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
                                 ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p]
    lib.espeak_ng_SetRandSeed.argtypes = [ctypes.c_long]
    rate = lib.espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0,
                                 espeakng_loader.get_data_path().encode(), 0)
    if rate <= 0:
        raise RuntimeError(f"espeak_Initialize failed ({rate})")
    return lib, rate


def _speak(lib, text: str, voice: str, rate_wpm: int, pitch: int, seed: int) -> np.ndarray:
    chunks: list[np.ndarray] = []

    @_CALLBACK
    def collect(wav, n, events):
        if wav and n > 0:
            chunks.append(np.ctypeslib.as_array(wav, shape=(n,)).copy())
        return 0

    lib.espeak_SetSynthCallback(collect)
    if lib.espeak_SetVoiceByName(voice.encode()) != 0:
        raise RuntimeError(f"eSpeak NG has no voice {voice!r}")
    lib.espeak_SetParameter(ESPEAK_RATE, int(rate_wpm), 0)
    lib.espeak_SetParameter(ESPEAK_PITCH, int(pitch), 0)
    lib.espeak_ng_SetRandSeed(int(seed))
    data = text.encode() + b"\0"
    if lib.espeak_Synth(data, len(data), 0, POS_CHARACTER, 0, 0, None, None) != 0:
        raise RuntimeError(f"espeak_Synth failed for {text!r} in voice {voice!r}")
    lib.espeak_Synchronize()
    return np.concatenate(chunks).astype(np.int16) if chunks else np.zeros(0, np.int16)


def _in_child(lib, item) -> np.ndarray:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: speak, send, exit without Python's clean-up
        os.close(read)
        code = 0
        try:
            with os.fdopen(write, "wb") as f:
                f.write(_speak(lib, *item).tobytes())
        except BaseException as e:  # reported through the exit code
            sys.stderr.write(f"{e}\n")
            code = 1
        os._exit(code)
    os.close(write)
    with os.fdopen(read, "rb") as f:
        data = f.read()
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"eSpeak NG could not speak {item!r}")
    return np.frombuffer(data, np.int16)


def main(out: str) -> None:
    items = json.load(sys.stdin)
    lib, rate = _library()
    clips = [_in_child(lib, item) for item in items]
    lengths = np.array([len(c) for c in clips], np.int64)
    audio = np.concatenate(clips) if clips else np.zeros(0, np.int16)
    with open(out, "wb") as f:
        np.savez(f, audio=audio, lengths=lengths, rate=np.int64(rate))


if __name__ == "__main__":
    main(sys.argv[1])
