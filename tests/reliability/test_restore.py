"""Restore quarantines only real corruption (issue 18, items 1, 4 and 8).

Damaged files (garbled, missing, a sha256 that does not match) move that one checkpoint to
``corrupt_checkpoints/`` and fall back to the previous one. Anything else -- a checkpoint of
another model, out of memory, an I/O error, a bug -- is one clear CheckpointError and moves
nothing. A workdir left with quarantined checkpoints only is refused until
``--restart-from-scratch``.
"""

import errno
import glob
import json
import shutil

import pytest

from genjax.core import checkpoint as ckpt_module
from genjax.core.checkpoint import MANIFEST, Checkpointer, CheckpointError
from genjax.core.loop import LoopSettings, init_state, train
from genjax.data import Batches
from genjax.data.pipeline import ArraySource
from tests.helpers import ring_points, tiny_gan, tree_equal
from tests.reliability import runs


def batches():
    return Batches(ArraySource({"point": ring_points()}), 32, 0)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny loop-level run with checkpoints at steps 2 and 4."""
    root = tmp_path_factory.mktemp("trained")
    train(tiny_gan(), batches(), root, LoopSettings(steps=4, log_every=2, checkpoint_every=2,
                                                    sample_every=0), seed=0)
    return root


@pytest.fixture
def run(trained, tmp_path):
    shutil.copytree(trained, tmp_path / "run")
    return tmp_path / "run"


def restore_latest(workdir, move_corrupt=True):
    with Checkpointer(workdir / "checkpoints") as ckpt:
        return ckpt.restore_latest(init_state(tiny_gan(), batches(), 0), move_corrupt)


def data_files(workdir, step):
    return sorted(glob.glob(str(workdir / "checkpoints" / str(step) / "state" / "**" / "d" / "*"),
                            recursive=True))


def quarantined(workdir):
    return sorted(p.name for p in (workdir / "corrupt_checkpoints").glob("*"))


def test_every_checkpoint_gets_a_sha256_manifest(run):
    for step in (2, 4):
        listed = json.loads((run / "checkpoints" / str(step) / MANIFEST).read_text())["files"]
        assert any(name.startswith("state/") for name in listed)
        assert any(name.startswith("meta/") for name in listed)
        assert all(len(entry["sha256"]) == 64 for entry in listed.values())


def test_flipped_bytes_fail_the_checksum_and_fall_back(run, caplog):
    """Item 8: bytes flipped inside the latest checkpoint's data quarantine it."""
    for path in data_files(run, 4):
        data = bytearray(open(path, "rb").read())
        data[-3] ^= 0x5A  # one byte near the end: the array payload
        open(path, "wb").write(bytes(data))
    state, meta = restore_latest(run)
    assert int(state.step) == 2 and meta["data_position"] == 2
    assert "sha256" in caplog.text
    assert [n.split("_")[1] for n in quarantined(run)] == ["4"]
    assert runs.saved_steps(run) == [2]


def test_a_checkpoint_without_manifest_still_loads(run):
    """Checkpoints written before manifests existed load (unverified)."""
    for step in (2, 4):
        (run / "checkpoints" / str(step) / MANIFEST).unlink()
    state, _ = restore_latest(run)
    assert int(state.step) == 4
    assert not (run / "corrupt_checkpoints").exists()


def test_a_garbled_checkpoint_without_manifest_is_still_quarantined(run):
    (run / "checkpoints" / "4" / MANIFEST).unlink()
    (run / "checkpoints" / "4" / "state" / "_METADATA").write_text("{garbage")
    state, _ = restore_latest(run)
    assert int(state.step) == 2 and len(quarantined(run)) == 1


@pytest.mark.parametrize("error, expected", [
    (MemoryError(), "ran out of memory"),
    (ValueError("RESOURCE_EXHAUSTED: Out of memory allocating 4096 bytes"), "out of memory"),
    (OSError(errno.EIO, "Input/output error"), "I/O error"),
    (PermissionError(errno.EACCES, "Permission denied"), "I/O error"),
    (ValueError("UNAVAILABLE: the storage service is down"), "I/O error"),
    (TypeError("unexpected keyword 'sharding'"), "not a damaged file"),
])
def test_errors_of_the_machine_are_refused_and_nothing_moves(run, monkeypatch, error, expected):
    def fail(self, template, step):
        raise error

    for step in (2, 4):  # as for an old checkpoint: without a manifest nothing vouches for it
        (run / "checkpoints" / str(step) / MANIFEST).unlink()
    monkeypatch.setattr(Checkpointer, "restore", fail)
    with pytest.raises(CheckpointError, match=expected) as info:
        restore_latest(run)
    assert "nothing was moved" in str(info.value)
    assert runs.saved_steps(run) == [2, 4] and not (run / "corrupt_checkpoints").exists()


def test_an_intact_checkpoint_that_does_not_restore_is_not_quarantined(run, monkeypatch):
    """The manifest matches: whatever fails, the files are as written -- never moved."""
    def fail(self, template, step):
        raise ValueError("a restore error that looks like damage")

    monkeypatch.setattr(Checkpointer, "restore", fail)
    with pytest.raises(CheckpointError, match="is intact"):
        restore_latest(run)
    assert runs.saved_steps(run) == [2, 4] and not (run / "corrupt_checkpoints").exists()


def test_manifests_are_written_as_background_saves_finish(tmp_path):
    """Without waiting: a run killed soon after a save still leaves it verifiable."""
    import time

    state = init_state(tiny_gan(), batches(), 0)
    ckpt = Checkpointer(tmp_path / "checkpoints", async_save=True)
    try:
        ckpt.save(state, {"seed": 0, "data_position": 0})
        manifest = tmp_path / "checkpoints" / "0" / MANIFEST
        deadline = time.monotonic() + 60
        while not manifest.exists() and time.monotonic() < deadline:
            ckpt.seal_finished()  # what the loop calls at every boundary
            time.sleep(0.05)
        assert manifest.exists()
        assert ckpt_module.verify_manifest(manifest.parent) is True
    finally:
        ckpt.close()


def test_a_wrapped_read_error_counts_as_damage(tmp_path):
    """orbax re-raises some tensorstore read errors as a bare Exception."""
    try:
        try:
            raise ValueError("DATA_LOSS: Error reading chunk")
        except ValueError as inner:
            raise Exception("Encountered error while reading array index") from inner
    except Exception as err:
        with pytest.raises(ckpt_module._Corrupt):
            ckpt_module._raise_unless_corrupt(err, tmp_path, False, "its data")


def test_classification_of_errors():
    problem = ckpt_module.environment_problem
    assert problem(MemoryError()) == "out of memory"
    assert "I/O error" in problem(OSError(errno.ENOSPC, "No space left on device"))
    assert problem(FileNotFoundError(errno.ENOENT, "gone")) is None  # a missing file: damage
    assert problem(ValueError("DATA_LOSS: checksum")) is None
    try:  # the machine's error anywhere in the chain counts
        try:
            raise OSError(errno.EIO, "Input/output error")
        except OSError as inner:
            raise ValueError("reading failed") from inner
    except ValueError as outer:
        assert "I/O error" in problem(outer)


def test_another_model_without_saved_shapes_is_refused_and_the_run_kept(toy_run, capsys):
    """Items 1 and 4, the issue's repro: strip ``shapes`` from every checkpoint's metadata
    (and its manifest, as in a run of an older genjax), then resume with another latent size
    and --allow-config-change. Refused by orbax's own array metadata; nothing is moved, and
    config.json still holds the config the checkpoints were trained with."""
    work = toy_run
    for meta in (work / "checkpoints").glob("*/meta/metadata"):
        saved = json.loads(meta.read_text())
        del saved["shapes"]
        meta.write_text(json.dumps(saved))
        (meta.parent.parent / MANIFEST).unlink()
    config_before = (work / "config.json").read_text()
    metrics_before = (work / "metrics.jsonl").read_text()
    capsys.readouterr()
    assert runs.train(work, 6, "--config.model.latent_dim=50", "--allow-config-change") == 1
    err = runs.one_error_line(capsys)
    assert "different model" in err and "params/generator" in err and "Nothing was moved" in err
    assert (work / "config.json").read_text() == config_before  # item 4
    assert not list(work.glob("config.before-*.json"))
    assert not (work / "corrupt_checkpoints").exists() and runs.saved_steps(work) == [2, 4]
    assert (work / "metrics.jsonl").read_text() == metrics_before
    # the same command again is refused again; the original config resumes
    assert runs.train(work, 6, "--config.model.latent_dim=50", "--allow-config-change") == 1
    assert runs.train(work, 6) == 0
    assert runs.metric_steps(work) == [2, 4, 6]


def test_only_quarantined_checkpoints_refuse_until_restart_from_scratch(toy_run, tmp_path,
                                                                        capsys):
    work = toy_run
    for step in (2, 4):
        for path in data_files(work, step):
            open(path, "wb").close()  # truncated array data: both checkpoints damaged
    metrics_before = (work / "metrics.jsonl").read_text()
    capsys.readouterr()
    assert runs.train(work, 6) == 2
    err = runs.one_error_line(capsys)
    assert "no usable checkpoint" in err and "--restart-from-scratch" in err
    assert len(quarantined(work)) == 2
    # never a silent start from step 0: the next attempt is refused the same way
    assert runs.train(work, 6) == 2
    assert "2 quarantined" in runs.one_error_line(capsys)
    assert (work / "metrics.jsonl").read_text() == metrics_before
    # sampling says the same, without the training flag
    from genjax.cli import main

    assert main(["sample", str(work), "--out", str(tmp_path / "x.npz")]) == 1
    assert "no usable checkpoint" in runs.one_error_line(capsys)

    assert runs.train(work, 4, "--restart-from-scratch") == 0
    [archive] = work.glob("before-restart-*")
    assert {"checkpoints", "corrupt_checkpoints", "metrics.jsonl", "config.json"} <= {
        p.name for p in archive.iterdir()}
    assert (archive / "metrics.jsonl").read_text() == metrics_before  # moved, not deleted
    assert len(list((archive / "corrupt_checkpoints").iterdir())) == 2
    assert runs.metric_steps(work) == [2, 4] and runs.saved_steps(work) == [2, 4]
    assert not (work / "corrupt_checkpoints").exists()


def test_restart_from_scratch_trains_like_a_fresh_run(tmp_path):
    assert runs.train(tmp_path / "a", 2) == 0
    assert runs.train(tmp_path / "a", 2, "--restart-from-scratch") == 0
    assert runs.train(tmp_path / "b", 2) == 0
    from genjax.cli import load_run

    assert tree_equal(load_run(tmp_path / "a")[2], load_run(tmp_path / "b")[2])
