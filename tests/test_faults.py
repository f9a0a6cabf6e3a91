"""Fault injection: what the package does when things go wrong, each asserted by its message.

kill -9 at a chosen point (in a subprocess), truncated checkpoint/state/best files, a second
process on a locked run/search/export folder, a stale lock, disk full / read-only / permission
denied on write (monkeypatched, no root needed), a hostile ``--hparams`` file, a resume with an
identity setting changed, ensemble members that disagree, a broken file in a ``predict`` batch,
a loss that explodes without NaN. ``docs/reliability.md`` tabulates them (and the cases other
test modules cover). Every scenario ends with nothing lost: no ``.tmp-*`` orphan, the files that
were there before intact, and a rerun that completes.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import types
import zipfile

import pytest
from conftest import CrashAt
from PIL import Image

from kerascv_course.cli import main
from kerascv_course.export import TFLiteClassifier
from kerascv_course.training import Recipe, train
from kerascv_course.training.artifacts import loss_status
from kerascv_course.utils import files
from kerascv_course.utils.files import FolderLock
from kerascv_course.utils.model_card import CARD_NAME, read_card

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FAST = dict(model="lenet5", dataset="digits", batch_size=32, steps_per_epoch=4, eval_steps=2, tensorboard=False)
TRAIN = ["train", "lenet5", "--dataset", "digits", "--batch-size", "32", "--steps-per-epoch", "4",
         "--eval-steps", "2", "--no-tensorboard", "--progress", "off"]
TUNE = ["tune", "lenet5", "--dataset", "digits", "--max-trials", "1", "--epochs", "1", "--batch-size", "32",
        "--steps-per-epoch", "2", "--eval-steps", "1", "--no-tensorboard"]
EXPORT_FAST = ["--eval-samples", "20", "--latency-runs", "0"]


def _orphans(folder) -> list[str]:
    return [os.path.join(d, n) for d, _, names in os.walk(folder) for n in names if n.startswith(".tmp-")]


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    """A finished digits run (1 epoch) with an export beside it."""
    root = tmp_path_factory.mktemp("faults")
    result = train(Recipe(**FAST, epochs=1, output=str(root / "run")), verbose=0)
    assert main(["export", result.output, "-q", "float32", "dynamic", *EXPORT_FAST]) == 0
    return result.output


@pytest.fixture(scope="module")
def interrupted_run(tmp_path_factory):
    """A run of 3 epochs killed at the start of epoch 2: checkpoint/ holds epochs 1 and 2."""
    run = tmp_path_factory.mktemp("interrupted") / "run"
    recipe = Recipe(**FAST, epochs=3, optimizer="sgd", learning_rate=0.05, output=str(run))
    with pytest.raises(KeyboardInterrupt):
        train(recipe, verbose=0, callbacks=[CrashAt(2)])
    names = sorted(os.listdir(run / "checkpoint"))
    assert {"ckpt-0001.npz", "ckpt-0002.npz", "state-0001.json", "state-0002.json", "best.npz"} <= set(names)
    return run, recipe


def _copy_run(interrupted_run, tmp_path):
    run, recipe = interrupted_run
    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    return copy, recipe.replace(output=str(copy))


def _truncate(path, keep: float = 0.5) -> None:
    data = open(path, "rb").read()
    with open(path, "wb") as fh:
        fh.write(data[: int(len(data) * keep)])


# ---- truncated and corrupted checkpoints ----------------------------------------------------


def test_truncated_newest_checkpoint_falls_back_one_epoch_and_extension_is_recorded(interrupted_run, tmp_path, caplog):
    run, recipe = _copy_run(interrupted_run, tmp_path)
    _truncate(run / "checkpoint" / "ckpt-0002.npz")
    with caplog.at_level(logging.WARNING):
        result = train(recipe.replace(epochs=4), verbose=0)  # also: more epochs, recorded as a change
    notice = [r.getMessage() for r in caplog.records if "previous checkpoint" in r.getMessage()]
    assert len(notice) == 1 and "ckpt-0002.npz" in notice[0] and "damaged" in notice[0]
    assert result.metrics["resumed_from_epoch"] == 1 and result.metrics["epochs_completed"] == 4
    assert result.metrics["recipe_changes"] == [{"epoch": 1, "epochs": [3, 4]}]
    assert json.load(open(run / "recipe.json"))["_changes"] == [{"epoch": 1, "epochs": [3, 4]}]
    assert _orphans(run) == [] and not (run / "checkpoint").exists()


def test_corrupted_state_falls_back_and_all_damaged_is_refused_in_one_line(interrupted_run, tmp_path, capsys):
    run, recipe = _copy_run(interrupted_run, tmp_path)
    (run / "checkpoint" / "state-0002.json").write_text('{"epoch": 2, "hist')
    (run / "checkpoint" / "state-0001.json").write_text("\x00\x01 not json")
    assert main([*TRAIN, "--epochs", "3", "--optimizer", "sgd", "--lr", "0.05", "--output", str(run)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "No readable checkpoint" in err[0] and "--overwrite" in err[0]
    assert "state-0002.json" in err[0] and "state-0001.json" in err[0]
    assert sorted(os.listdir(run / "checkpoint")) == sorted(os.listdir(interrupted_run[0] / "checkpoint"))


def test_truncated_best_is_found_before_training_and_the_run_finishes(interrupted_run, tmp_path, caplog):
    run, recipe = _copy_run(interrupted_run, tmp_path)
    _truncate(run / "checkpoint" / "best.npz", 0.3)
    with caplog.at_level(logging.WARNING):
        result = train(recipe, verbose=0)
    assert any("best.npz" in r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
    assert result.metrics["resumed_from_epoch"] == 2 and (run / "metrics.json").is_file()
    assert (run / "best.keras").is_file() and _orphans(run) == []


@pytest.mark.parametrize("field,value", [("learning_rate", 0.1), ("seed", 7), ("batch_size", 16),
                                         ("optimizer", "adam"), ("model", "mlp")])
def test_resume_with_an_identity_setting_changed_is_refused(interrupted_run, field, value):
    run, recipe = interrupted_run
    before = sorted(os.listdir(run / "checkpoint"))
    with pytest.raises(ValueError, match=rf"Cannot resume .*{field}: checkpoint .*this run {value!r}.*--overwrite"):
        train(recipe.replace(**{field: value}), verbose=0)
    assert sorted(os.listdir(run / "checkpoint")) == before and not (run / "metrics.json").exists()


def test_hostile_hparams_file_cannot_set_paths_or_switches(tmp_path, capsys):
    victim = tmp_path / "victim"
    (victim / "logs").mkdir(parents=True)
    (victim / "logs" / "keep.txt").write_text("precious")
    for hostile in ({"output": str(victim), "overwrite": True, "learning_rate": 0.01},
                    {"data_dir": "/etc", "learning_rate": 0.01}, {"resume": False}):
        hp = tmp_path / "best_hparams.json"
        hp.write_text(json.dumps(hostile))
        assert main([*TRAIN, "--epochs", "1", "--hparams", str(hp), "--output", str(tmp_path / "run")]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        refused = ", ".join(k for k in hostile if k != "learning_rate")
        assert len(err) == 1 and f"A hyper-parameter file may not set {refused}:" in err[0], err
    assert (victim / "logs" / "keep.txt").read_text() == "precious" and not (tmp_path / "run" / "metrics.json").exists()


# ---- locks -----------------------------------------------------------------------------------


def test_second_process_on_a_locked_run_search_or_export_folder_is_refused_with_the_pid(finished_run, tmp_path, capsys):
    pid = f"PID {os.getpid()}"
    run = tmp_path / "busy-run"
    with FolderLock(run, "run folder"):
        assert main([*TRAIN, "--epochs", "1", "--output", str(run)]) == 2
        err = capsys.readouterr().err
        assert "in use by another process" in err and pid in err and not (run / "recipe.json").exists()
    search = tmp_path / "busy-search"
    with FolderLock(search, "search folder"):
        assert main([*TUNE, "--output", str(search)]) == 2
        err = capsys.readouterr().err
        assert "search folder" in err and pid in err and not (search / "search.json").exists()
    export = os.path.join(finished_run, "export")
    before = {n: open(os.path.join(export, n), "rb").read() for n in os.listdir(export) if n != ".lock"}
    with FolderLock(export, "export folder"):
        assert main(["export", finished_run, "-q", "float32", *EXPORT_FAST]) == 2
        err = capsys.readouterr().err
        assert "export folder" in err and pid in err
    assert {n: open(os.path.join(export, n), "rb").read() for n in before} == before


def test_stale_lock_of_a_killed_process_is_taken_over(tmp_path):
    folder = tmp_path / "folder"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from kerascv_course.utils.files import FolderLock; "
         f"FolderLock({str(folder)!r}).acquire(); print('locked', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE, text=True, cwd=REPO, env={**os.environ, "PYTHONPATH": REPO},
    )
    assert holder.stdout.readline().strip() == "locked"
    with pytest.raises(files.FolderLockedError, match=rf"PID {holder.pid} "):
        FolderLock(folder).acquire()
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    lock = FolderLock(folder).acquire()  # the kernel dropped the dead holder's flock
    assert lock.holder().startswith(f"PID {os.getpid()} ")
    lock.release()


# ---- disk full, read-only, permission denied -------------------------------------------------


def test_disk_full_while_training_is_one_line_and_the_rerun_resumes(tmp_path, monkeypatch, capsys):
    run = tmp_path / "run"
    real, calls = files.fsync_file, []

    def full_after_some_writes(path):
        calls.append(path)
        if len(calls) >= 6:  # in epoch 1's checkpoint, after epoch 0's is durable
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), os.fspath(path))
        real(path)

    monkeypatch.setattr(files, "fsync_file", full_after_some_writes)
    args = [*TRAIN, "--epochs", "2", "--output", str(run)]
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "the disk is full" in err[0] and "free space" in err[0] and str(run) in err[0], err
    assert ".tmp-" not in err[0]  # the destination is named, not the temporary file
    assert _orphans(run) == [] and not (run / "metrics.json").exists()
    monkeypatch.setattr(files, "fsync_file", real)
    assert main(args) == 0
    metrics = json.load(open(run / "metrics.json"))
    assert metrics["resumed_from_epoch"] == 1 and metrics["epochs_completed"] == 2 and _orphans(run) == []


def _refuse_writes(monkeypatch, code):
    def mkstemp(*args, dir=None, **kwargs):
        raise OSError(code, os.strerror(code), dir)

    monkeypatch.setattr(files, "tempfile", types.SimpleNamespace(mkstemp=mkstemp))


@pytest.mark.parametrize("code,words", [(errno.EROFS, "read-only"), (errno.ENOSPC, "disk is full"),
                                        (errno.EACCES, "permission is denied")])
def test_export_that_cannot_write_leaves_the_old_set_served(finished_run, monkeypatch, capsys, code, words):
    export = os.path.join(finished_run, "export")
    before = {n: open(os.path.join(export, n), "rb").read() for n in os.listdir(export) if n != ".lock"}
    _refuse_writes(monkeypatch, code)
    assert main(["export", finished_run, "-q", "float32", "dynamic", *EXPORT_FAST]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and words in err[0] and export in err[0] and "--output" in err[0], err
    monkeypatch.undo()
    assert {n: open(os.path.join(export, n), "rb").read() for n in before} == before and _orphans(export) == []
    assert TFLiteClassifier(os.path.join(export, "model_float32.tflite")).num_classes == 10


def test_read_only_search_folder_is_one_line(tmp_path, monkeypatch, capsys):
    _refuse_writes(monkeypatch, errno.EROFS)
    assert main([*TUNE, "--output", str(tmp_path / "search")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "read-only" in err[0] and str(tmp_path / "search") in err[0], err


# ---- multi-file exports: all or nothing ------------------------------------------------------

KILL_AFTER_SECOND_FILE = """
import os, signal, sys
import kerascv_course.export.pipeline as pipeline
real, done = pipeline.export_tflite, []
def export_then_die(*args, **kwargs):
    result = real(*args, **kwargs)
    done.append(result.path)
    if len(done) == 2:
        os.kill(os.getpid(), signal.SIGKILL)
    return result
pipeline.export_tflite = export_then_die
from kerascv_course.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.slow  # a subprocess that imports TensorFlow, then a rerun: ~20 s on a shared 2-core machine
def test_kill_9_during_a_multi_file_export_serves_no_half_set(finished_run, tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(finished_run, run)
    export = run / "export"
    old = {n: (export / n).read_bytes() for n in ("model_float32.tflite", "model_dynamic.tflite")}
    child = subprocess.run(
        [sys.executable, "-c", KILL_AFTER_SECOND_FILE, "export", str(run), "-q", "float32", "dynamic",
         "--input-size", "28", *EXPORT_FAST],
        cwd=REPO, env={**os.environ, "PYTHONPATH": REPO}, capture_output=True, text=True, timeout=120,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr[-2000:]
    for name, data in old.items():  # both rewritten (28x28 input now), neither listed: refused
        assert (export / name).read_bytes() != data
        with pytest.raises(ValueError, match=r"not part of a complete export.*Run the export again"):
            TFLiteClassifier(export / name)
    Image.new("L", (32, 32)).save(tmp_path / "x.png")
    assert main(["predict", str(export / "model_float32.tflite"), str(tmp_path / "x.png")]) == 2
    assert "not part of a complete export" in capsys.readouterr().err
    assert _orphans(run) == []
    assert main(["export", str(run), "-q", "float32", *EXPORT_FAST]) == 0  # the rerun publishes what it wrote
    assert TFLiteClassifier(export / "model_float32.tflite").input_shape == (32, 32, 1)
    with pytest.raises(ValueError, match="not part of a complete export"):
        TFLiteClassifier(export / "model_dynamic.tflite")  # still the killed export's: not served
    data = (export / "model_float32.tflite").read_bytes()  # a file altered after its export: refused
    (export / "model_float32.tflite").write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
    with pytest.raises(ValueError, match="differs from the file its export wrote"):
        TFLiteClassifier(export / "model_float32.tflite")


# ---- mismatches and bad inputs ---------------------------------------------------------------


def _with_card(src, dst, **changes):
    """A copy of ``src`` whose model card has ``changes`` (another run's model, in effect)."""
    card = read_card(src)
    for key, value in changes.items():
        if key in card["input"]:
            card["input"][key] = value
        else:
            card[key] = value
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for item in zin.infolist():
            if item.filename != CARD_NAME:
                zout.writestr(item, zin.read(item.filename))
        zout.writestr(CARD_NAME, json.dumps(card))
    return str(dst)


def test_ensemble_members_that_disagree_are_refused_before_loading(finished_run, tmp_path, capsys, monkeypatch):
    model = os.path.join(finished_run, "model.keras")
    cases = [
        (_with_card(model, tmp_path / "names.keras", class_names=list("abcdefghij")), "class names"),
        (_with_card(model, tmp_path / "size.keras", image_size=[28, 28]), "input size"),
        (_with_card(model, tmp_path / "data.keras", dataset={"name": "shapes"}), "training dataset"),
        (_with_card(model, tmp_path / "classes.keras", class_names=["a", "b", "c"]), "classes"),
    ]
    import kerascv_course.training.run_folder as run_folder

    def no_loading(path):
        raise AssertionError("a model was loaded before the members were checked")

    monkeypatch.setattr(run_folder, "load_keras_model", no_loading)
    for other, words in cases:
        assert main(["evaluate", finished_run, "--ensemble", other, "--max-examples", "8"]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and f"must have the same {words}" in err[0] and other in err[0], err


def test_predict_reports_a_broken_file_and_answers_the_rest(finished_run, tmp_path, capsys):
    model = os.path.join(finished_run, "export", "model_float32.tflite")
    good = tmp_path / "good.png"
    Image.new("L", (32, 32), 128).save(good)
    truncated = tmp_path / "truncated.png"
    Image.effect_noise((32, 32), 40).save(truncated)
    _truncate(truncated, 0.5)
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    images = [str(good), str(truncated), str(text), str(tmp_path / "missing.png"), str(good)]
    assert main(["predict", model, *images, "-k", "1", "--json"]) == 1
    captured = capsys.readouterr()
    lines = [json.loads(line) for line in captured.out.splitlines()]
    assert [line["image"] for line in lines] == images
    assert [("top" in line) for line in lines] == [True, False, False, False, True]
    assert lines[0]["top"] == lines[4]["top"]
    assert "truncated or damaged" in lines[1]["error"] and "not an image file" in lines[2]["error"]
    assert "No image file" in lines[3]["error"]
    assert "3 of 5 image(s) could not be read" in captured.err


def test_an_exploding_loss_is_reported_not_finished_as_normal(tmp_path, caplog, monkeypatch):
    assert loss_status([{"epoch": 0, "loss": 2.0}, {"epoch": 1, "loss": 150.0}]) == {"status": "ok"}
    exploded = loss_status([{"epoch": 0, "loss": 2.0}, {"epoch": 1, "loss": 201.0}])
    assert exploded["status"] == "loss_exploded" and exploded["loss_exploded"]["epoch"] == 1
    from kerascv_course.training.engine import Engine

    real, seen = Engine.train_epoch, []

    def explode_in_epoch_1(self, *args, **kwargs):  # epoch 1's loss 1000x epoch 0's: finite, not NaN
        logs = real(self, *args, **kwargs)
        seen.append(float(logs["loss"]))
        if len(seen) == 2:
            logs["loss"] = seen[0] * 1000.0
        return logs

    monkeypatch.setattr(Engine, "train_epoch", explode_in_epoch_1)
    with caplog.at_level(logging.WARNING):
        result = train(Recipe(**FAST, epochs=2, output=str(tmp_path / "run")), verbose=0)
    metrics = json.load(open(tmp_path / "run" / "metrics.json"))
    assert metrics["status"] == "loss_exploded" and result.metrics["status"] == "loss_exploded"
    assert metrics["loss_exploded"]["loss"] == pytest.approx(1000.0 * metrics["loss_exploded"]["first_epoch_loss"])
    warned = [r.getMessage() for r in caplog.records if "loss exploded" in r.getMessage()]
    assert len(warned) == 1 and "at epoch 1" in warned[0]


def test_settings_that_match_nothing_and_models_that_do_not_fit_are_refused_before_training():
    from kerascv_course.data import load_dataset
    from kerascv_course.models import get_model
    from kerascv_course.training.checks import check_recipe
    from kerascv_course.training.model import build_model, check_outputs
    from kerascv_course.training.optimizer import decayed_variables
    from kerascv_course.training.strategy import check_devices

    with pytest.raises(ValueError, match=r"include_top=False.* no classifier"):
        check_recipe(Recipe(**FAST, model_kwargs={"include_top": False}))
    recipe = Recipe(**FAST, weight_decay=1e-4, weight_decay_exclude=["depthwise"])
    mobilenet = get_model("mobilenet", input_shape=(32, 32, 3), classes=10, alpha=0.25)
    with pytest.raises(ValueError, match=r"pattern 'depthwise' matches no variable .*conv_dw_1"):
        decayed_variables(mobilenet, recipe)
    kept = decayed_variables(mobilenet, recipe.replace(weight_decay_exclude=["conv_dw_"]))
    assert kept and not any("conv_dw_" in v.path for v in kept)  # the recipes' pattern: depthwise left alone
    _, info = load_dataset("digits", "test")
    with pytest.raises(ValueError, match=r"outputs 3 classes but 'digits' has 10"):
        build_model(Recipe(**FAST, model_kwargs={"classes": 3}), info)
    headless = get_model("lenet5", input_shape=(32, 32, 1), include_top=False)
    with pytest.raises(ValueError, match="no classifier"):
        check_outputs(headless, info)
    with pytest.raises(ValueError, match=r"names '/gpu:7', which this machine does not have"):
        check_devices(["/gpu:7"])
