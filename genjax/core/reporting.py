"""Where training metrics go: metrics.jsonl, TensorBoard event files, a progress display, plots."""

from __future__ import annotations

import json
import logging
import math
import struct
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from genjax.core.files import remove_stale_temps, write_atomic, written_atomically

log = logging.getLogger(__name__)


class MetricsLog:
    """Appends one JSON object per logged step to ``metrics.jsonl`` and mirrors it to TensorBoard.

    TensorBoard event files are written with tensorboardX (no TensorFlow needed) under
    ``<workdir>/tensorboard``, one new file per run of the loop. A resumed run first drops
    the events past its start step from the earlier files (``truncate_events``), so every
    logged step is held exactly once; the step it resumes at keeps its points.

    Args:
      workdir: the run folder.
      enabled: False on processes that must not write (non-zero hosts).
      resume_step: the step a resumed run restarts from: later records (written after the
        last checkpoint by the interrupted run) are dropped from both logs.
    """

    def __init__(self, workdir: str | Path, enabled: bool = True, resume_step: int = 0):
        self.path = Path(workdir) / "metrics.jsonl"
        self.enabled = enabled
        self._tb = None
        if enabled:
            from tensorboardX import SummaryWriter

            folder = Path(workdir) / "tensorboard"
            self._truncate_after(resume_step)
            truncate_events(folder, resume_step)
            # tensorboardX names a file by the second and the host only: a numbered suffix
            # keeps two runs started within one second from writing the same file
            runs = len(_event_files(folder))
            self._tb = SummaryWriter(str(folder), flush_secs=10,
                                     filename_suffix=f".{runs + 1:04d}")
            _tolerate_write_errors(self._tb)

    def write(self, step: int, metrics: dict[str, float]) -> None:
        """Records the metrics of one step."""
        if not self.enabled:
            return
        record = {"step": int(step), **{k: _jsonable(v) for k, v in metrics.items()}}
        with self.path.open("a") as f:
            f.write(json.dumps(record) + "\n")
        for name, value in metrics.items():
            if isinstance(value, int | float) and math.isfinite(value):
                self._tb.add_scalar(name, value, int(step))

    def write_sample_file(self, tag: str, path: str | Path, step: int) -> None:
        """Shows a sample file the loop wrote in TensorBoard under ``tag``, by its format: a
        ``.png`` (a sample grid, a scatter plot) in the images tab, a ``.txt`` (text samples)
        in the text tab (its first ``TEXT_CHARS`` characters, as preformatted text), a mono
        16-bit ``.wav`` (audio clips) in the audio tab; other formats are skipped."""
        path = Path(path)
        suffix = path.suffix.lower()
        if not self.enabled or suffix not in (".png", ".txt", ".wav") or not path.exists():
            return
        import numpy as np

        if suffix == ".png":
            from PIL import Image

            with Image.open(path) as img:
                pixels = np.asarray(img.convert("RGB"))
            self._tb.add_image(tag, pixels, int(step), dataformats="HWC")
        elif suffix == ".txt":
            text = path.read_text(encoding="utf-8", errors="replace")[:TEXT_CHARS]
            # TensorBoard renders markdown: a fenced block keeps the lines and spaces as written
            self._tb.add_text(tag, "```\n" + text.replace("```", "'''") + "\n```", int(step))
        else:
            self._write_wav(tag, path, int(step))

    def _write_wav(self, tag: str, path: Path, step: int) -> None:
        """The WAV file's own bytes as an audio summary (tensorboardX's ``add_audio`` would
        re-encode floats through the ``soundfile`` package; TensorBoard plays these as
        written)."""
        import wave

        from tensorboardX.proto.summary_pb2 import Summary

        with wave.open(str(path), "rb") as f:
            rate, channels, frames = f.getframerate(), f.getnchannels(), f.getnframes()
        audio = Summary.Audio(sample_rate=rate, num_channels=channels, length_frames=frames,
                              encoded_audio_string=path.read_bytes(), content_type="audio/wav")
        self._tb._get_file_writer().add_summary(
            Summary(value=[Summary.Value(tag=tag, audio=audio)]), step)

    def _truncate_after(self, step: int) -> None:
        truncate_metrics(self.path, step)

    def close(self) -> None:
        """Flushes TensorBoard files."""
        if self._tb is not None:
            self._tb.close()


class _DroppingRecordWriter:
    """tensorboardX's event record writer, made to drop events once a write fails.

    tensorboardX writes events from a background thread: an ``OSError`` there (a full disk)
    kills the thread with a traceback on stderr, and the next events then block the loop
    forever on the thread's full queue (and so would ``close``). The TensorBoard files only
    mirror ``metrics.jsonl``, which the loop writes itself (and reports a failure of), so here
    the first failure is logged at debug level and every later event is dropped.
    """

    def __init__(self, inner):
        self._inner = inner
        self.failed: OSError | None = None

    def _guarded(self, method: str, *args):
        if self.failed is not None:
            return None
        try:
            return getattr(self._inner, method)(*args)
        except OSError as e:
            self.failed = e
            log.debug("TensorBoard events are no longer written: %s", e)
            return None

    def write_event(self, event):
        return self._guarded("write_event", event)

    def flush(self):
        return self._guarded("flush")

    def close(self):
        try:  # after a failure too: the file handle is released
            return self._inner.close()
        except OSError as e:
            self.failed = self.failed or e
            return None


def _tolerate_write_errors(writer) -> None:
    """Puts a :class:`_DroppingRecordWriter` under a ``SummaryWriter``'s event file writer
    (both its background thread and its own flush / close use it); a tensorboardX of another
    layout is left as it is."""
    events = getattr(writer._get_file_writer(), "event_writer", None)
    worker = getattr(events, "_worker", None)
    inner = getattr(events, "_ev_writer", None)
    if worker is None or inner is None or not hasattr(worker, "_record_writer"):
        return
    dropping = _DroppingRecordWriter(inner)
    events._ev_writer = dropping
    worker._record_writer = dropping


#: Characters of a text sample file shown in TensorBoard's text tab.
TEXT_CHARS = 4000


def _event_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir()
                  if "tfevents" in p.name and not p.name.startswith("."))


def read_event_records(path: str | Path) -> list[bytes]:
    """The serialized ``Event`` protos of a TensorBoard event file (TFRecord framing: a
    little-endian uint64 length, its masked CRC32C, the data, the data's masked CRC32C).

    Reading stops at the first incomplete or corrupt record (a run killed while writing it).
    """
    from tensorboardX.record_writer import masked_crc32c

    data = Path(path).read_bytes()
    records, pos = [], 0
    while pos + 12 <= len(data):
        header = data[pos:pos + 8]
        (length,) = struct.unpack("<Q", header)
        (header_crc,) = struct.unpack("<I", data[pos + 8:pos + 12])
        end = pos + 12 + length + 4
        if header_crc != masked_crc32c(header) or end > len(data):
            break
        payload = data[pos + 12:pos + 12 + length]
        (payload_crc,) = struct.unpack("<I", data[end - 4:end])
        if payload_crc != masked_crc32c(payload):
            break
        records.append(payload)
        pos = end
    return records


def _frame(payload: bytes) -> bytes:
    from tensorboardX.record_writer import masked_crc32c

    header = struct.pack("<Q", len(payload))
    return (header + struct.pack("<I", masked_crc32c(header)) + payload
            + struct.pack("<I", masked_crc32c(payload)))


def truncate_events(folder: str | Path, step: int) -> None:
    """Drops the events past ``step`` from the TensorBoard event files in ``folder`` (those an
    interrupted run logged after its last checkpoint; a resumed run logs them again).

    Unlike TensorBoard's ``purge_step`` (which hides every earlier event at or after the
    resume step, so the resumed step's own points vanished, and a finished run re-run lost
    its last point), the files then hold every logged step once. Each file is replaced
    atomically, and only when something is dropped; a torn last record is dropped too.
    """
    from tensorboardX.proto.event_pb2 import Event

    for path in _event_files(Path(folder)):
        remove_stale_temps(path)
        records = read_event_records(path)
        kept = [r for r in records if Event.FromString(r).step <= step]
        if len(kept) < len(records) or sum(len(r) + 16 for r in records) != path.stat().st_size:
            write_atomic(path, b"".join(_frame(r) for r in kept))


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def truncate_metrics(path: str | Path, step: int) -> None:
    """Drops the records of ``path`` past ``step`` (a resumed run rewrites them).

    The file is replaced atomically -- a kill during the rewrite leaves the old file, never a
    truncated one -- and only when something is dropped. Torn lines (a run killed during an
    append) are dropped with a warning; temporary files of rewrites killed half-way are
    removed (one trainer at a time writes a run's metrics).
    """
    path = Path(path)
    remove_stale_temps(path)
    if not path.exists():
        return
    text = path.read_text(errors="replace")
    records, torn = _parse_lines(text, path)
    kept = [line for line, record in records if record["step"] <= step]
    if torn or len(kept) < len(records) or (text and not text.endswith("\n")):
        write_atomic(path, "".join(line + "\n" for line in kept))


def read_metrics(path: str | Path) -> list[dict[str, Any]]:
    """Reads a metrics.jsonl file into a list of records (torn lines skipped with a warning)."""
    path = Path(path)
    if not path.exists():
        return []
    return [record for _, record in _parse_lines(path.read_text(errors="replace"), path)[0]]


def _parse_lines(text: str, path: Path) -> tuple[list[tuple[str, dict[str, Any]]], int]:
    """``([(line, record), ...], number of unreadable lines)`` of a metrics.jsonl text."""
    records, torn = [], 0
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            if not isinstance(record, dict) or not isinstance(record.get("step"), int):
                raise ValueError("not a record with an integer 'step'")
        except ValueError as err:
            torn += 1
            log.warning("%s line %d is not a complete record (%s; a run killed while "
                        "writing it); dropping it", path, number, str(err)[:80])
            continue
        records.append((line, record))
    return records, torn


class Progress:
    """A tqdm bar with steps/s and ETA on a terminal; plain periodic lines otherwise.

    Args:
      total: the last step.
      initial: the step the run starts (or resumes) at.
      stream: where to write (default stdout).
      enabled: False silences it (non-zero hosts).
    """

    def __init__(self, total: int, initial: int = 0, stream: TextIO | None = None, enabled=True):
        self.stream = stream or sys.stdout
        self.total = total
        self.enabled = enabled
        self._bar = None
        self._t0 = time.perf_counter()
        self._s0 = initial
        if enabled and self.stream.isatty():
            from tqdm import tqdm

            self._bar = tqdm(total=total, initial=initial, file=self.stream, unit="step",
                             dynamic_ncols=True)

    def update(self, step: int, metrics: dict[str, float]) -> None:
        """Reports progress at ``step`` with the latest metrics."""
        if not self.enabled:
            return
        shown = {k: v for k, v in metrics.items() if k != "steps_per_sec"}
        if self._bar is not None:
            self._bar.update(step - self._bar.n)
            self._bar.set_postfix({k: f"{v:.4g}" for k, v in list(shown.items())[:4]})
            return
        elapsed = time.perf_counter() - self._t0
        rate = (step - self._s0) / elapsed if elapsed > 0 else float("nan")
        eta = (self.total - step) / rate if rate > 0 else float("nan")
        parts = " ".join(f"{k}={v:.4g}" for k, v in shown.items())
        print(f"step {step}/{self.total} {rate:.2f} steps/s eta {_fmt_time(eta)} {parts}",
              file=self.stream, flush=True)

    def close(self) -> None:
        """Ends the bar."""
        if self._bar is not None:
            self._bar.close()


def _fmt_time(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "?"
    m, s = divmod(int(seconds), 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def plot_losses(metrics_path: str | Path, out_path: str | Path) -> Path | None:
    """Plots every metric whose name contains 'loss' against the step, one panel each.

    Each logged point is marked, so a run of a single logged step still shows it.

    Args:
      metrics_path: a metrics.jsonl file.
      out_path: the .png file to write.

    Returns:
      The path written, or None when there is nothing to plot.
    """
    records = read_metrics(metrics_path)
    if not any("loss" in k for r in records for k in r):
        return None
    fig = losses_figure(records, f"losses of {Path(metrics_path).absolute().parent.name}")
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_path, dpi=100)
    return out_path


def write_progress_gif(samples_dir: str | Path, out_path: str | Path,
                       frame_ms: int = 400) -> Path | None:
    """An animation of a run's sample grids: the ``step_XXXXXXX.png`` files of
    ``samples_dir`` in step order, one frame each (the last held 4x as long), as a looping GIF.

    Only ``.png`` grids are frames (images, 2D scatter plots); a modality whose loop writes
    another format (text, audio) gets none. Frames of another size than the first are
    resized to it. Written atomically.

    Args:
      samples_dir: the run's ``samples/`` folder.
      out_path: the ``.gif`` to write.
      frame_ms: milliseconds per frame.

    Returns:
      The path written, or None when there are no ``.png`` grids.
    """
    frames_paths = sorted(Path(samples_dir).glob("step_*.png")) if Path(
        samples_dir).is_dir() else []
    if not frames_paths:
        return None
    from PIL import Image

    frames = []
    for path in frames_paths:
        with Image.open(path) as img:
            frame = img.convert("RGB")
        if frames and frame.size != frames[0].size:
            frame = frame.resize(frames[0].size)
        frames.append(frame)
    durations = [frame_ms] * (len(frames) - 1) + [4 * frame_ms]
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with written_atomically(out_path) as tmp:
        frames[0].save(tmp, format="GIF", save_all=True, append_images=frames[1:],
                       duration=durations, loop=0)
    return out_path


def losses_figure(records: list[dict[str, Any]], title: str):
    """The figure of ``plot_losses``: one panel per '*loss*' metric, points marked (a
    ``matplotlib.figure.Figure``, not pyplot's: the caller's backend is left alone)."""
    from matplotlib.figure import Figure

    names = sorted({k for r in records for k in r if "loss" in k})
    fig = Figure(figsize=(7, 1.2 + 2.4 * len(names)))
    axes = fig.subplots(len(names), 1, sharex=True, squeeze=False)
    for ax, name in zip(axes[:, 0], names, strict=True):
        pts = [(r["step"], r[name]) for r in records if isinstance(r.get(name), int | float)]
        ax.plot([p[0] for p in pts], [p[1] for p in pts], lw=1, marker="o", ms=3)
        ax.set_ylabel(name)
        ax.grid(alpha=0.3)
    axes[-1, 0].set_xlabel("step")
    count = len({r["step"] for r in records})
    fig.suptitle(f"{title} ({count} logged step{'s' if count != 1 else ''})")
    fig.tight_layout()
    return fig
