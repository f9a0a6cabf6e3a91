"""A newcomer's first hour: progress lines, numbering that agrees, errors that say how to fix."""

from __future__ import annotations

import json
import re

import pytest

from kerascv_course.cli import main
from kerascv_course.tuning.trials import read_trials_csv

ANSI = re.compile(r"\x1b\[")


def test_tune_prints_one_line_per_trial_and_numbers_agree(capsys, tmp_path):
    from kerascv_course.viz.tuning import best_point, trial_numbers

    space = tmp_path / "space.json"
    space.write_text(json.dumps({"learning_rate": {"values": [1e-6, 3e-3]},
                                 "hidden_units": {"values": [[16], [32]]}}))
    out = tmp_path / "search"
    code = main(["tune", "mlp", "--dataset", "digits", "--epochs", "1", "--batch-size", "128",
                 "--max-trials", "3", "--space", str(space), "--no-retrain", "--output", str(out)])
    text = capsys.readouterr().out
    assert code == 0, text
    assert not ANSI.search(text)
    started = re.findall(r"^Trial (\d+) \((\d+) of 3\) started: (.*)$", text, re.M)
    ended = re.findall(r"^Trial (\d+) \((\d+) of 3\) ended in .*: val_accuracy (\d\.\d+); "
                       r"best so far (\d\.\d+) \(trial (\d+)\)", text, re.M)
    assert [s[:2] for s in started] == [("0", "1"), ("1", "2"), ("2", "3")], text
    assert [e[:2] for e in ended] == [("0", "1"), ("1", "2"), ("2", "3")], text
    assert all("learning_rate=" in s[2] and "hidden_units=" in s[2] for s in started)
    # The best so far, recomputed from the per-trial scores the lines print.
    scores = [float(e[2]) for e in ended]
    assert [float(e[3]) for e in ended] == [max(scores[:i + 1]) for i in range(3)]
    assert "left" in text.split("Trial 0 (1 of 3) ended")[1].splitlines()[0]

    rows = read_trials_csv(out / "trials.csv")
    best_cli = re.search(r"^Best trial (\d+): val_accuracy = (\d\.\d+)", text, re.M).group(1)
    best_row = max(rows, key=lambda r: float(r["val_accuracy"]))
    assert best_row["trial"] == best_cli == json.loads((out / "best_trial.json").read_text())["trial"]
    assert ended[-1][4] == best_cli
    assert re.search(rf"^{best_cli}\*", text, re.M)  # the table's star
    x, y = best_point(rows, objective="val_accuracy", best=best_cli)
    assert str(x) == best_cli and abs(y - float(best_row["val_accuracy"])) < 1e-9
    assert trial_numbers(rows) == [int(r["trial"]) for r in rows]


def test_hyperband_says_why_it_runs_fewer_trials(capsys, tmp_path):
    from kerascv_course.tuning.progress import hyperband_trials

    # By hand, keras-tuner's schedule for max_epochs 9, factor 3: brackets of 3; 5+2; 9+3+1.
    assert hyperband_trials(9, 3) == 3 + 7 + 13
    space = tmp_path / "space.json"
    space.write_text(json.dumps({"learning_rate": {"values": [1e-3, 3e-3]},
                                 "hidden_units": {"values": [[16]]}}))
    out = tmp_path / "search"
    code = main(["tune", "mlp", "--dataset", "digits", "--epochs", "2", "--batch-size", "128",
                 "--tuner", "hyperband", "--max-trials", "5", "--space", str(space),
                 "--no-retrain", "--output", str(out)])
    text = capsys.readouterr().out
    assert code == 0, text
    rows = read_trials_csv(out / "trials.csv")
    # The oracle itself ran this many: the line must say so before the search.
    assert f"Hyperband plans {len(rows)} trials, not --max-trials 5" in text
    assert len(re.findall(rf"^Trial \d+ \(\d of {len(rows)}\) ended", text, re.M)) == len(rows)


# ------------------------------------------------------------------------------------------
# Progress of export and evaluate; failed commands leave nothing behind.


@pytest.fixture(scope="module")
def lenet_run(tmp_path_factory):
    import keras

    from kerascv_course.models import get_model
    from kerascv_course.training import Recipe

    keras.utils.set_random_seed(0)
    folder = tmp_path_factory.mktemp("run") / "lenet"
    folder.mkdir()
    get_model("lenet5").save(folder / "model.keras")
    (folder / "recipe.json").write_text(json.dumps(Recipe(model="lenet5", dataset="digits").to_dict()))
    return folder


def test_export_int8_prints_its_stages_and_a_failed_export_leaves_no_folder(lenet_run, capsys, tmp_path):
    out = tmp_path / "export"
    code = main(["export", str(lenet_run), "--quantization", "int8", "--calibration-samples", "8",
                 "--eval-samples", "16", "--latency-runs", "0", "--output", str(out)])
    text = capsys.readouterr().out
    assert code == 0, text
    assert not ANSI.search(text)
    lines = text.splitlines()
    stages = [i for i, line in enumerate(lines) if line.startswith(
        ("Reading 8 calibration images", "Converting int8 (calibrating on 8 images)", "Comparing model_int8.tflite"))]
    assert len(stages) == 3 and stages == sorted(stages), text
    assert (out / "model_int8.tflite").exists()

    bad = tmp_path / "bad-export"
    assert main(["export", str(lenet_run), "--split", "nope", "--output", str(bad)]) == 2
    assert "`split` must be one of" in capsys.readouterr().err
    assert not bad.exists()


def test_tta_10crop_on_small_images_warns_with_the_crops_share(lenet_run, capsys, caplog):
    from kerascv_course.evaluation.classification import tta_warning

    # digits are 32x32; a 32x32 input is cropped from a 37-pixel side (32 / 0.875):
    # 32*32 / (37*37) = 74.8 % of the image.
    assert "keeps 75% of an upsampled image" in tta_warning("10crop", (32, 32), (32, 32))
    assert tta_warning("10crop", (256, 256), (224, 224)) is None  # ImageNet's own protocol
    assert tta_warning("none", (32, 32), (32, 32)) is None
    code = main(["evaluate", str(lenet_run), "--tta", "10crop", "--max-examples", "64",
                 "--output", str(lenet_run / "eval.json")])
    text = capsys.readouterr().out
    assert code == 0
    assert "--tta 10crop: the 32x32 images of digits" in caplog.text
    assert "--tta none" in caplog.text
    assert re.search(r"^Model 1 of 1 \(.*\): digits test, tta 10crop$", text, re.M), text
    assert re.search(r"^Model 1 of 1: 64 images in \d+ s$", text, re.M), text
    assert json.loads((lenet_run / "eval.json").read_text())["warnings"]


def test_checking_a_large_image_folder_logs_progress(caplog):
    import logging

    from kerascv_course.data.datasets.images import check_files

    with caplog.at_level(logging.INFO):
        out = check_files(["a", "b", "c"], check=str.upper, every=0.0)
    assert out == {"a": "A", "b": "B", "c": "C"}
    assert [r.getMessage().split(" (")[0] for r in caplog.records] == [
        "Checked 1 of 3 image files", "Checked 2 of 3 image files"]


# ------------------------------------------------------------------------------------------
# Errors that say how to fix, and leave nothing behind.


def test_small_images_into_lenet5_say_image_size_or_pad_and_leave_no_run_folder(tmp_path, capsys):
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    for cls in ("a", "b"):
        (tmp_path / "mnist" / cls).mkdir(parents=True)
        for i in range(6):
            Image.fromarray(rng.integers(0, 255, (28, 28), dtype=np.uint8)).save(tmp_path / "mnist" / cls / f"{i}.png")
    run = tmp_path / "run"
    args = ["train", "lenet5", "--dataset", f"folder:{tmp_path / 'mnist'}", "--epochs", "1", "--output", str(run)]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "at least 32x32 pixels" in err and "gives it 28x28" in err
    assert "--image-size 32" in err and "--resize-mode pad" in err and "LeCun" in err
    assert not run.exists()
    assert main([*args, "--image-size", "28"]) == 2  # answered by the TF-free checks
    assert "pass --image-size 32 or larger" in capsys.readouterr().err
    assert not run.exists()


def test_list_with_no_match_says_so_and_names_the_families(capsys):
    from kerascv_course.models.catalog import model_info, model_names

    assert main(["list", "nope*"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "No model matches 'nope*'" in captured.err and "kerascv-course list" in captured.err
    assert all(model_info(n).family in captured.err for n in model_names())


def test_dataset_names_are_case_insensitive_like_model_names():
    from kerascv_course.data.catalog import dataset_task, resolve_dataset
    from kerascv_course.models.catalog import model_info

    assert model_info("LeNet5").name == model_info("lenet5").name
    assert dataset_task("DIGITS") == dataset_task("digits") == "classification"
    assert dataset_task("Cracks") == "segmentation"
    assert resolve_dataset("Folder:/data/x") == resolve_dataset("folder:/data/x")


# ------------------------------------------------------------------------------------------
# Pictures people can read.


def _capture_figures(monkeypatch, module):
    """Keep the figures ``module`` closes, to read their axes."""
    figures = []
    real_close = module.plt.close
    monkeypatch.setattr(module.plt, "close", lambda fig=None: (figures.append(fig), real_close(fig)))
    return figures


def test_history_plot_has_whole_epoch_ticks_and_no_trivial_top5_panel(monkeypatch, tmp_path):
    import numpy as np
    from PIL import Image

    from kerascv_course.viz import curves

    figures = _capture_figures(monkeypatch, curves)
    base = {"loss": [1.0, 0.5, 0.4], "val_loss": [1.1, 0.6, 0.5], "accuracy": [0.5, 0.8, 0.9],
            "val_accuracy": [0.4, 0.7, 0.8], "learning_rate": [1e-3, 1e-3, 1e-4]}
    curves.plot_history({**base, "top5_accuracy": [1.0] * 3, "val_top5_accuracy": [1.0] * 3}, tmp_path / "a.png")
    curves.plot_history({**base, "top5_accuracy": [0.9, 1.0, 1.0], "val_top5_accuracy": [1.0] * 3},
                        tmp_path / "b.png")
    trivial, kept = ([ax.get_title() for ax in f.axes] for f in figures)
    assert trivial == ["loss", "accuracy", "learning rate"]
    assert kept == ["loss", "accuracy", "top5 accuracy", "learning rate"]
    for ax in figures[0].axes:
        ticks = [t for t in ax.get_xticks() if 1 <= t <= 3]
        assert ticks == [1, 2, 3], ticks
        assert ax.get_xlabel() == "epoch" and ax.get_ylabel()
    assert Image.open(tmp_path / "b.png").width > Image.open(tmp_path / "a.png").width
    curves.plot_history({"loss": [0.5], "val_loss": [0.6]}, tmp_path / "one.png")  # one epoch: one tick
    assert list(figures[-1].axes[0].get_xticks()) == [1]
    curves.plot_history({"loss": list(np.linspace(1, 0.1, 40))}, tmp_path / "many.png")
    ticks = [t for t in figures[-1].axes[0].get_xticks() if 1 <= t <= 40]
    assert ticks and all(float(t).is_integer() for t in ticks) and len(ticks) <= 11


def test_lenet5_filters_are_legible_and_saliency_says_predicted_and_true(tmp_path):
    import keras
    import numpy as np
    from PIL import Image

    from kerascv_course.models import get_model
    from kerascv_course.viz.inspect import plot_filters, plot_saliency, saliency_title

    keras.utils.set_random_seed(0)
    model = get_model("lenet5")
    plot_filters(model, tmp_path / "filters.png")
    width, height = Image.open(tmp_path / "filters.png").size
    assert width >= 500 and height >= 350, (width, height)  # was 252x193

    image = np.random.default_rng(0).normal(size=(32, 32, 1)).astype("float32")
    probs = np.asarray(model.predict(image[None], verbose=0))[0]
    names = [f"digit{i}" for i in range(10)]
    top = int(np.argmax(probs))
    title = saliency_title(model, image, top, class_names=names, true_index=3)
    assert title == f"predicted digit{top} (class {top}) (p = {probs[top]:.2f}) / true digit3 (class 3)"
    assert saliency_title(model, image, top, class_names=[str(i) for i in range(10)], true_index=3) == (
        f"predicted {top} (p = {probs[top]:.2f}) / true 3")
    plot_saliency(model, image, tmp_path / "saliency.png", class_names=names, true_index=3)
    assert Image.open(tmp_path / "saliency.png").width >= 600


def test_failed_inspect_leaves_no_folder(tmp_path, capsys):
    out = tmp_path / "inspect"
    assert main(["inspect", "lenet5", "--layers", "nope", "--output", str(out)]) == 2
    assert "`layers` names layers the model does not have: ['nope']" in capsys.readouterr().err
    assert not out.exists()


# ------------------------------------------------------------------------------------------
# Quiet on a non-TTY: tune, export and predict as fresh processes.


def _run_cli(args, tmp_path):
    import os
    import subprocess
    import sys

    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)
    done = subprocess.run([sys.executable, "-m", "kerascv_course.cli", *args], capture_output=True,
                          text=True, env=env, timeout=300, cwd=tmp_path)
    return done, done.stdout + done.stderr


def _assert_quiet(text):
    from kerascv_course.cli.quiet import NOISE

    assert not ANSI.search(text)
    assert not any(NOISE.match(line) for line in text.splitlines()), text
    assert "oneDNN" not in text and "absl" not in text and "cuInit" not in text and "XNNPACK" not in text


def test_export_and_predict_on_a_non_tty_are_quiet(lenet_run, tmp_path):
    import numpy as np
    from PIL import Image

    model = tmp_path / "lenet5.tflite"
    done, text = _run_cli(["export", str(lenet_run / "model.keras"), "--quantization", "float32",
                           "--latency-runs", "0", "--output", str(model)], tmp_path)
    assert done.returncode == 0, text
    _assert_quiet(text)
    assert "Converting float32" in done.stdout
    Image.fromarray(np.zeros((32, 32), np.uint8)).save(tmp_path / "digit.png")
    done, text = _run_cli(["predict", str(model), str(tmp_path / "digit.png")], tmp_path)
    assert done.returncode == 0, text
    _assert_quiet(text)
    assert done.stdout.splitlines()[0].endswith("digit.png")


@pytest.mark.slow
def test_tune_on_a_non_tty_is_quiet_and_prints_a_line_per_trial(tmp_path):
    space = tmp_path / "space.json"
    space.write_text(json.dumps({"learning_rate": {"values": [1e-3, 3e-3]}, "hidden_units": {"values": [[16]]}}))
    done, text = _run_cli(["tune", "mlp", "--dataset", "digits", "--epochs", "1", "--batch-size", "128",
                           "--max-trials", "2", "--space", str(space), "--no-retrain",
                           "--output", str(tmp_path / "search")], tmp_path)
    assert done.returncode == 0, text
    _assert_quiet(text)
    assert len(re.findall(r"^Trial \d \(\d of 2\) started", done.stdout, re.M)) == 2
    assert len(re.findall(r"^Trial \d \(\d of 2\) ended", done.stdout, re.M)) == 2
