"""benchmarks/gpu_throughput.py runs on CPU (tiny settings) before it is run on a GPU."""

import importlib.util
from pathlib import Path

import numpy as np


def test_tiny_run_reports_time_throughput_and_flops(tmp_path):
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "gpu_throughput.py"
    spec = importlib.util.spec_from_file_location("gpu_throughput", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    rows = bench.main(["--tiny", "--families", "classifier",
                       "--json", str(tmp_path / "rows.jsonl")])
    assert [(r["family"], r["precision"]) for r in rows] == [("classifier", "fp32"),
                                                             ("classifier", "bf16")]
    for r in rows:
        assert r["finite"] and r["ms_per_step"] > 0 and r["devices"] == 1
        assert np.isclose(r["images_per_s"], r["batch"] / (r["ms_per_step"] / 1e3))
        assert r["gflop_per_step"] > 0 and r["tflops"] > 0
    # the same network: XLA counts (nearly) the same FLOPs whatever the activation dtype
    assert np.isclose(rows[0]["gflop_per_step"], rows[1]["gflop_per_step"], rtol=0.1)
    assert (tmp_path / "rows.jsonl").read_text().count("\n") == 2
