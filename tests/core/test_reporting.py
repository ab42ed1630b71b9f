"""Progress display and metric logs."""

import io
import json

from genjax.core.reporting import MetricsLog, Progress, plot_losses, read_metrics


class TTY(io.StringIO):
    def isatty(self):
        return True


def test_plain_lines_when_not_a_terminal():
    out = io.StringIO()
    progress = Progress(total=10, stream=out)
    progress.update(5, {"d_loss": 0.5, "steps_per_sec": 2.0})
    progress.close()
    line = out.getvalue().strip()
    assert line.startswith("step 5/10") and "steps/s" in line and "eta" in line
    assert "d_loss=0.5" in line


def test_progress_bar_on_a_terminal():
    out = TTY()
    progress = Progress(total=10, stream=out)
    progress.update(5, {"d_loss": 0.5})
    progress.close()
    text = out.getvalue()
    assert "5/10" in text and "it/s" not in text and "step/s" in text  # tqdm's bar, in steps


def test_metrics_log_resume_drops_later_records(tmp_path):
    log = MetricsLog(tmp_path)
    for step in (10, 20, 30):
        log.write(step, {"loss": float(step), "bad": float("nan")})
    log.close()
    assert json.loads((tmp_path / "metrics.jsonl").read_text().splitlines()[0])["bad"] == "nan"
    MetricsLog(tmp_path, resume_step=20).close()
    assert [r["step"] for r in read_metrics(tmp_path / "metrics.jsonl")] == [10, 20]
    assert plot_losses(tmp_path / "metrics.jsonl", tmp_path / "losses.png").stat().st_size > 0


def tensorboard_steps(folder):
    """``{(kind, tag): [step, ...]}`` as TensorBoard shows them: every event file in
    ``folder`` in name order, read straight from the TFRecord framing (uint64 length, uint32
    crc, payload, uint32 crc) and the Event proto, purges applied."""
    import struct

    from tensorboardX.proto.event_pb2 import Event

    steps = {}
    for path in sorted(folder.glob("*tfevents*")):
        data, pos = path.read_bytes(), 0
        while pos < len(data):
            (length,) = struct.unpack("<Q", data[pos:pos + 8])
            event = Event.FromString(data[pos + 12:pos + 12 + length])
            pos += 12 + length + 4
            if event.session_log.status == event.session_log.START:
                # TensorBoard's purge: a restart at step s hides the earlier points >= s
                steps = {tag: [s for s in seen if s < event.step] for tag, seen in steps.items()}
            for value in event.summary.value:
                kind = "image" if value.HasField("image") else "scalar"
                steps.setdefault((kind, value.tag), []).append(event.step)
    return steps


def test_tensorboard_holds_each_step_once_after_resumes(tmp_path):
    # a run that logged 2, 4, 6 but whose last checkpoint is step 4 (killed after logging 6)
    log = MetricsLog(tmp_path)
    for step in (2, 4, 6):
        log.write(step, {"loss": float(step)})
    log.close()
    log = MetricsLog(tmp_path, resume_step=4)  # the resumed run logs 6 and 8 again
    for step in (6, 8):
        log.write(step, {"loss": 10.0 + step})
    log.close()
    MetricsLog(tmp_path, resume_step=8).close()  # a finished run re-run: nothing is lost
    steps = tensorboard_steps(tmp_path / "tensorboard")
    assert steps == {("scalar", "loss"): [2, 4, 6, 8]}
    assert [r["loss"] for r in read_metrics(tmp_path / "metrics.jsonl")] == [2, 4, 16, 18]


def test_resumed_and_rerun_training_keeps_every_point_and_image(tmp_path):
    from genjax.core.loop import LoopSettings, train
    from genjax.data import Batches
    from genjax.data.pipeline import ArraySource
    from genjax.modalities import modalities
    from tests.helpers import ring_points, tiny_gan

    data = Batches(ArraySource({"point": ring_points()}), 32, 0)
    points = modalities()["points"]
    for steps in (4, 8, 8):  # a run, its resume, the finished run re-run
        settings = LoopSettings(steps=steps, log_every=2, checkpoint_every=4, sample_every=4)
        train(tiny_gan(), data, tmp_path, settings, seed=0, writer=points)
    steps = tensorboard_steps(tmp_path / "tensorboard")
    assert steps[("scalar", "d_loss")] == [2, 4, 6, 8]  # the resumed step 4 is kept
    assert steps[("image", "samples")] == [4, 8]
    assert len(list((tmp_path / "tensorboard").glob("*tfevents*"))) == 3  # no file overwritten


def test_loss_plot_of_a_single_logged_step_shows_the_point(tmp_path):
    import numpy as np
    from PIL import Image

    from genjax.core.reporting import losses_figure

    (tmp_path / "run").mkdir()
    log = MetricsLog(tmp_path / "run")
    log.write(5, {"g_loss": 0.7, "d_loss": 1.3})
    log.close()
    png = plot_losses(tmp_path / "run" / "metrics.jsonl", tmp_path / "losses.png")
    pixels = np.asarray(Image.open(png).convert("RGB")).astype(int)
    blue = np.array([0x1F, 0x77, 0xB4])  # matplotlib's first line colour: the markers
    assert (np.abs(pixels - blue).sum(-1) < 30).sum() > 10
    fig = losses_figure(read_metrics(tmp_path / "run" / "metrics.jsonl"), "losses of run")
    assert fig._suptitle.get_text() == "losses of run (1 logged step)"
    assert [ax.get_ylabel() for ax in fig.axes] == ["d_loss", "g_loss"]
    assert all(line.get_marker() == "o" for ax in fig.axes for line in ax.get_lines())


def _summaries(folder):
    """Every summary value in ``folder``'s event files, as ``(step, value)``."""
    import struct

    from tensorboardX.proto.event_pb2 import Event

    out = []
    for path in sorted(folder.glob("*tfevents*")):
        data, pos = path.read_bytes(), 0
        while pos < len(data):
            (length,) = struct.unpack("<Q", data[pos:pos + 8])
            event = Event.FromString(data[pos + 12:pos + 12 + length])
            pos += 12 + length + 4
            out += [(event.step, value) for value in event.summary.value]
    return out


def test_text_and_audio_sample_files_reach_tensorboard(tmp_path):
    import io
    import wave

    import numpy as np

    from genjax.modalities.audio import save_wav
    from genjax.modalities.text import save_text

    text = save_text(np.frombuffer(b"In the beginning\n  God", np.uint8)[None], tmp_path / "s.txt")
    clip = np.sin(np.linspace(0, 40 * np.pi, 800))[None] * 0.5
    audio = save_wav(clip, tmp_path / "s.wav", rate=8000)
    (tmp_path / "s.npz").write_bytes(b"not shown")
    log = MetricsLog(tmp_path / "run")
    log.write_sample_file("samples", text, 10)
    log.write_sample_file("samples", audio, 20)
    log.write_sample_file("samples", tmp_path / "s.npz", 30)  # no TensorBoard view: skipped
    log.close()
    values = _summaries(tmp_path / "run" / "tensorboard")
    assert [step for step, _ in values] == [10, 20]
    shown = values[0][1].tensor.string_val[0].decode()
    assert "In the beginning\n  God" in shown and shown.startswith("```")
    sound = values[1][1].audio
    assert sound.sample_rate == 8000
    assert sound.encoded_audio_string == audio.read_bytes()  # what TensorBoard plays
    with wave.open(io.BytesIO(sound.encoded_audio_string)) as f:
        played = np.frombuffer(f.readframes(f.getnframes()), "<i2")
    assert sound.length_frames == 800 and np.abs(played.astype(int)).max() > 10000  # the tone


def test_a_failing_tensorboard_write_neither_prints_nor_blocks_the_loop(tmp_path, capfd):
    """A full disk under tensorboardX's writer thread: no traceback, no hang on its full event
    queue (10 events), metrics.jsonl complete."""
    import errno
    import threading

    log = MetricsLog(tmp_path)
    writer = log._tb._get_file_writer().event_writer._ev_writer
    inner = getattr(writer, "_inner", writer)  # tensorboardX's own EventsWriter

    def no_space(*args):
        raise OSError(errno.ENOSPC, "No space left on device")

    inner.write_event = inner.flush = no_space

    def run():
        for step in range(40):
            log.write(step, {"loss": float(step)})
        log.close()

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(timeout=60)
    assert not worker.is_alive(), "the loop blocked on TensorBoard's queue"
    assert len(read_metrics(tmp_path / "metrics.jsonl")) == 40
    assert capfd.readouterr().err == ""
