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
