"""The trainer in one process: schedules, weight decay, label smoothing, bad input, runs and resume."""

from __future__ import annotations

import json
import math
import os

import keras
import numpy as np
import pytest
from conftest import CrashAt

from kerascv_course.cli import build_parser
from kerascv_course.cli.script import main as script_main
from kerascv_course.cli.train import recipe_from_args
from kerascv_course.data import load_dataset
from kerascv_course.training import Recipe, apply_hparams, train
from kerascv_course.training.artifacts import read_history_csv
from kerascv_course.training.callbacks import PlateauDecay
from kerascv_course.training.checks import check_recipe
from kerascv_course.training.model import compile_model
from kerascv_course.training.run_data import label_encoder
from kerascv_course.training.schedules import learning_rate_at, make_schedule, schedule_options
from kerascv_course.training.strategy import check_tf_config, parse_strategy, scale_learning_rate
from kerascv_course.training.trainer import resolve_output

FAST = dict(model="lenet5", dataset="digits", batch_size=32, steps_per_epoch=4, eval_steps=2, tensorboard=False)


# --------------------------------------------------------------------------------------------
# Schedules and learning-rate scaling


def test_step_schedule_values_at_chosen_steps():
    s = make_schedule("step", 0.1, steps_per_epoch=10, epochs=90, options={"milestones": [30, 60]})
    np.testing.assert_allclose(learning_rate_at(s, [0, 299, 300, 599, 600, 899]), [0.1, 0.1, 0.01, 0.01, 0.001, 0.001], rtol=1e-6)
    warm = make_schedule(
        "step", 0.1, steps_per_epoch=100, epochs=164,
        options={"milestone_steps": [32000, 48000], "warmup_steps": 400, "warmup_factor": 0.1},
    )
    np.testing.assert_allclose(
        learning_rate_at(warm, [0, 399, 400, 31999, 32000, 48000]), [0.01, 0.01, 0.1, 0.1, 0.01, 0.001], rtol=1e-6
    )
    lenet = make_schedule("step", 1.0, steps_per_epoch=1, epochs=20,
                          options={"milestones": [2, 5], "multipliers": [1.0, 0.4, 0.2]})
    np.testing.assert_allclose(learning_rate_at(lenet, [1, 3, 6]), [1.0, 0.4, 0.2], rtol=1e-6)


def test_exponential_cosine_and_poly_values_match_formulas():
    e = make_schedule("exponential", 0.045, steps_per_epoch=10, epochs=100, options={"rate": 0.94, "every_epochs": 2})
    np.testing.assert_allclose(learning_rate_at(e, [19, 20, 45]), [0.045, 0.045 * 0.94, 0.045 * 0.94**2], rtol=1e-6)
    c = make_schedule("cosine", 0.4, steps_per_epoch=10, epochs=10, options={"warmup_epochs": 2})
    steps = np.array([0, 10, 20, 60, 100])
    after = np.clip(steps - 20, 0, 80)
    expected = np.where(steps < 20, 0.4 * steps / 20, 0.4 * 0.5 * (1 + np.cos(np.pi * after / 80)))
    np.testing.assert_allclose(learning_rate_at(c, steps), expected, rtol=1e-5, atol=1e-7)
    p = make_schedule("poly", 0.04, steps_per_epoch=10, epochs=10, options={"power": 1.0})
    np.testing.assert_allclose(learning_rate_at(p, [0, 50, 100]), [0.04, 0.02, 0.0], atol=1e-7)
    assert make_schedule("plateau", 0.01, steps_per_epoch=5, epochs=3) == 0.01


@pytest.mark.parametrize(
    "name, options, match",
    [
        ("warm_restarts", {}, "`schedule` must be one of"),
        ("step", {}, "needs its boundaries"),
        ("step", {"milestones": [30], "gamma": 0.1}, "Unknown option"),
        ("step", {"milestones": [2], "warmup_epochs": 3}, "must end before the first boundary"),
        ("cosine", {"warmup_epochs": 10}, "must be shorter than the run"),
    ],
)
def test_bad_schedules_are_refused(name, options, match):
    with pytest.raises(ValueError, match=match):
        make_schedule(name, 0.1, steps_per_epoch=10, epochs=5, options=options)


def test_learning_rate_scaling_rules():
    assert scale_learning_rate(0.1, 1024, 256) == pytest.approx(0.4)
    assert scale_learning_rate(0.1, 1024, 256, "sqrt") == pytest.approx(0.2)
    assert scale_learning_rate(0.1, 1024, None) == 0.1
    with pytest.raises(ValueError, match="lr_scaling"):
        scale_learning_rate(0.1, 64, 32, "cubic")


# --------------------------------------------------------------------------------------------
# Bad input, before any heavy work


@pytest.mark.parametrize(
    "changes, match",
    [
        (dict(optimizer="lamb"), "`optimizer` must be one of"),
        (dict(strategy="tpu"), "`strategy` must be one of"),
        (dict(strategy="cpu:0"), "N >= 1"),
        (dict(schedule="onecycle"), "`schedule` must be one of"),
        (dict(weight_decay_mode="l1"), "weight_decay_mode"),
        (dict(optimizer="adamw", weight_decay_mode="l2"), "AdamW decays weights itself"),
        (dict(mixed_precision="float8"), "mixed_precision"),
        (dict(augment="randaugment"), "Unknown augmentation policy"),
        (dict(dataset="cracks"), "segmentation dataset"),
        (dict(model="lenet6"), "Unknown model"),
        (dict(dataset="mnist2"), "Unknown dataset"),
        (dict(batch_size=0), "batch_size"),
        (dict(optimizer_kwargs={"betas": 0.9}), "Unknown option 'betas'"),
        (dict(optimizer_kwargs={"momentum": 0.5}), "recipe field `momentum`"),
    ],
)
def test_bad_recipes_are_refused_before_heavy_work(changes, match):
    recipe = Recipe(**{**FAST, **changes})
    with pytest.raises(ValueError, match=match) as info:
        check_recipe(recipe)
    assert "Received:" in str(info.value)


@pytest.mark.parametrize(
    "raw, match",
    [
        (None, "needs the TF_CONFIG"),
        ("{not json", "not valid JSON"),
        ('{"task": {"type": "worker", "index": 0}}', "'cluster' object"),
        ('{"cluster": {"worker": ["localhost:1"]}, "task": {"type": "chief", "index": 0}}', "not a job of the cluster"),
        ('{"cluster": {"worker": ["localhost:1", "localhost:2"]}, "task": {"type": "worker", "index": 2}}', "index must be"),
        ('{"cluster": {"worker": ["localhost"]}, "task": {"type": "worker", "index": 0}}', "host:port"),
        ('{"cluster": {"worker": ["a:1"], "ps": ["b:2"]}, "task": {"type": "worker", "index": 0}}', "parameter servers"),
        ('{"cluster": {"worker": ["a:1"]}}', "name this process's task"),
    ],
)
def test_bad_tf_config_is_refused(raw, match, monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(ValueError, match=match):
        check_tf_config(raw if raw is not None else "")


def test_good_tf_config_and_strategy_names():
    config = check_tf_config('{"cluster": {"worker": ["h1:2222", "h2:2222"]}, "task": {"type": "worker", "index": 1}}')
    assert config["task"]["index"] == 1
    assert parse_strategy("mirrored:/gpu:0,/gpu:1") == ("mirrored", ["/gpu:0", "/gpu:1"])
    assert parse_strategy("cpu:4") == ("cpu", 4)


def test_output_folder_errors(tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "metrics.json").write_text("{}")
    with pytest.raises(FileExistsError, match="finished run"):
        resolve_output(Recipe(**FAST, output=str(tmp_path / "run")))
    assert resolve_output(Recipe(**FAST, output=str(tmp_path / "run"), overwrite=True)).path == str(tmp_path / "run")
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="is a file"):
        resolve_output(Recipe(**FAST, output=str(tmp_path / "file" / "run")))
    with pytest.raises(PermissionError, match="cannot be written"):
        resolve_output(Recipe(**FAST, output="/proc/kerascv-course-test/run"))


# --------------------------------------------------------------------------------------------
# Weight decay, label smoothing, hyper-parameters, the CLI's recipe


def _dense_model():
    inputs = keras.Input((3,))
    outputs = keras.layers.Dense(2, activation="softmax", name="fc")(inputs)
    return keras.Model(inputs, outputs)


def test_l2_weight_decay_penalises_kernels_only():
    _, info = load_dataset("digits", "train")
    model = _dense_model()
    compile_model(model, Recipe(**{**FAST, "weight_decay": 0.01, "weight_decay_mode": "l2"}), info, steps_per_epoch=5)
    kernel, bias = (v.numpy() for v in model.trainable_variables)
    bias_var = model.trainable_variables[1]
    bias_var.assign(np.ones_like(bias))  # a penalised bias would now show up in the sum
    assert float(sum(model.losses)) == pytest.approx(0.005 * float(np.sum(kernel**2)), rel=1e-6)


def test_decoupled_weight_decay_shrinks_kernels_not_biases():
    _, info = load_dataset("digits", "train")
    model = _dense_model()
    recipe = Recipe(**{**FAST, "optimizer": "sgd", "momentum": 0.0, "learning_rate": 0.5, "schedule": "constant",
                       "weight_decay": 0.1, "weight_decay_mode": "decoupled"})
    compile_model(model, recipe, info, steps_per_epoch=5)
    kernel, bias = (v.numpy() for v in model.trainable_variables)
    model.trainable_variables[1].assign(np.full_like(bias, 2.0))
    model.optimizer.apply([np.zeros_like(kernel), np.zeros_like(bias)], model.trainable_variables)
    np.testing.assert_allclose(model.trainable_variables[0].numpy(), kernel * (1 - 0.5 * 0.1), rtol=1e-6)
    np.testing.assert_allclose(model.trainable_variables[1].numpy(), 2.0)


def test_label_smoothing_loss_matches_numpy():
    _, info = load_dataset("digits", "train")
    recipe = Recipe(**{**FAST, "label_smoothing": 0.1})
    model = _dense_model()
    compile_model(model, recipe, info, steps_per_epoch=5)
    import tensorflow as tf

    probs = np.array([[0.7, 0.3, 0, 0, 0, 0, 0, 0, 0, 0], [0.1] * 10], dtype=np.float32)
    ds = label_encoder(recipe, info)(tf.data.Dataset.from_tensors((probs, np.array([0, 3]))))
    _, onehot = next(iter(ds))
    loss = float(model.loss(onehot, probs))
    target = 0.9 * np.eye(10)[[0, 3]] + 0.01
    clipped = np.clip(probs / probs.sum(1, keepdims=True), 1e-7, 1 - 1e-7)
    expected = np.mean(-np.sum(target * np.log(clipped), axis=1))
    assert loss == pytest.approx(expected, rel=1e-5)


def test_hparams_flags_and_precedence(tmp_path):
    hp = tmp_path / "best_hparams.json"
    hp.write_text(json.dumps({"learning_rate": 0.5, "optimizer": "sgd", "model_kwargs": {"variant": "modern"}}))
    args = build_parser().parse_args([
        "train", "lenet5", "--dataset", "digits", "--hparams", str(hp), "--lr", "0.02", "--momentum", "0.8",
        "--nesterov", "--weight-decay", "5e-4", "--schedule", "step", "--schedule-kwargs", '{"milestones": [3]}',
        "--label-smoothing", "0.1", "--mixed-precision", "off", "--jit-compile", "--no-resume", "--augment", "lenet",
    ])
    r = recipe_from_args(args)
    assert (r.optimizer, r.learning_rate, r.momentum, r.nesterov) == ("sgd", 0.02, 0.8, True)
    assert r.model_kwargs == {"variant": "modern"} and r.schedule_kwargs == {"milestones": [3]}
    assert (r.weight_decay, r.label_smoothing, r.mixed_precision, r.jit_compile, r.resume) == (5e-4, 0.1, None, True, False)
    with pytest.raises(ValueError, match="Unknown hyper-parameter"):
        apply_hparams(r, {"learning_rat": 0.1})


def test_recipe_runner_smoke_and_variants(capsys):
    base = Recipe(model="resnet20", dataset="cifar10", epochs=182, schedule="cosine", schedule_kwargs={"warmup_epochs": 5})
    variants = {"a": base, "b": base.replace(model="resnet56")}
    assert script_main(variants, argv=["--variant", "b", "--smoke", "--print-recipe", "--epochs", "3"]) == 0
    printed = Recipe.from_dict(json.loads(capsys.readouterr().out))
    assert (printed.model, printed.dataset, printed.epochs, printed.steps_per_epoch) == ("resnet56", "digits", 3, 2)
    assert printed.schedule_kwargs["warmup_epochs"] == 1.5  # shortened to fit the smoke run
    assert script_main(base, argv=["--optimizer", "lamb"]) == 2
    assert "optimizer" in capsys.readouterr().err


def test_plateau_decay_reduces_and_keeps_state():
    model = _dense_model()
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    callback = PlateauDecay(monitor="val_loss", factor=0.1, patience=2, max_reductions=1)
    callback.set_model(model)
    for epoch, value in enumerate([1.0, 0.9, 0.95, 0.95, 0.95, 0.95, 0.95]):
        callback.on_epoch_end(epoch, {"val_loss": value})
    assert float(model.optimizer.learning_rate) == pytest.approx(0.01)  # once only (max_reductions)
    restored = PlateauDecay(monitor="val_loss", patience=2)
    restored.load_state_dict(json.loads(json.dumps(callback.state_dict())))
    assert restored.state_dict() == callback.state_dict() == dict(best=0.9, wait=3, cooldown_left=0, reductions=1)
    with pytest.raises(ValueError, match="factor"):
        schedule_options("plateau", {"factor": 2.0})
    with pytest.raises(ValueError, match="mode"):
        PlateauDecay(mode="up")


# --------------------------------------------------------------------------------------------
# Whole runs


@pytest.mark.slow
def test_run_folder_resume_and_identity_check(tmp_path):
    recipe = Recipe(**{**FAST, "epochs": 3, "deterministic": True, "tensorboard": True, "optimizer": "sgd",
                       "momentum": 0.9, "learning_rate": 0.05, "schedule": "plateau",
                       "schedule_kwargs": {"patience": 0, "monitor": "val_loss"}})
    straight = train(recipe.replace(output=str(tmp_path / "straight")), verbose=0)
    run = tmp_path / "run"
    for name in ("model.keras", "best.keras", "history.csv", "history.png", "metrics.json", "recipe.json"):
        assert (tmp_path / "straight" / name).is_file(), name
    assert os.listdir(tmp_path / "straight" / "logs") and not (tmp_path / "straight" / "checkpoint").exists()
    assert Recipe.from_json(tmp_path / "straight" / "recipe.json") == recipe.replace(output=str(tmp_path / "straight"))
    keras.saving.load_model(tmp_path / "straight" / "best.keras", safe_mode=True)

    with pytest.raises(KeyboardInterrupt):
        train(recipe.replace(output=str(run)), verbose=0, callbacks=[CrashAt(2)])
    state = json.loads((run / "checkpoint" / "state-0002.json").read_text())
    assert state["epoch"] == 2 and not (run / "metrics.json").exists()
    with pytest.raises(ValueError, match=r"model: checkpoint 'lenet5', this run 'mlp'") as err:
        train(recipe.replace(output=str(run), model="mlp"), verbose=0)
    assert "--overwrite" in str(err.value)
    with pytest.raises(ValueError, match=r"dataset: checkpoint 'digits', this run 'shapes'"):
        train(recipe.replace(output=str(run), dataset="shapes"), verbose=0)
    resumed = train(recipe.replace(output=str(run)), verbose=0)
    assert resumed.metrics["resumed_from_epoch"] == 2 and resumed.metrics["epochs_completed"] == 3
    for a, b in zip(straight.model.weights, resumed.model.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert read_history_csv(str(run / "history.csv")) == read_history_csv(str(tmp_path / "straight" / "history.csv"))
    assert resumed.metrics["accuracy"] == straight.metrics["accuracy"]
    reloaded = keras.saving.load_model(run / "model.keras", safe_mode=True)
    np.testing.assert_array_equal(reloaded.weights[0].numpy(), resumed.model.weights[0].numpy())


def test_nan_loss_stops_with_a_clear_error(tmp_path):
    recipe = Recipe(**{**FAST, "model": "mlp", "model_kwargs": {"activation": "relu"}, "optimizer": "sgd",
                       "learning_rate": 1e12, "schedule": "constant", "epochs": 2,
                       "output": str(tmp_path / "nan")})
    with pytest.raises(FloatingPointError, match=r"Training diverged: the loss became (nan|inf) at epoch 1") as err:
        train(recipe, verbose=0)
    assert "--learning-rate" in str(err.value) and not (tmp_path / "nan" / "metrics.json").exists()


@pytest.mark.gpu
def test_mixed_precision_and_xla_switches(tmp_path):
    recipe = Recipe(**{**FAST, "epochs": 1, "steps_per_epoch": 2, "mixed_precision": "mixed_bfloat16",
                       "jit_compile": True, "output": str(tmp_path / "mp"), "validation_split": None})
    result = train(recipe, verbose=0)
    assert result.model.dtype_policy.name == "mixed_bfloat16"
    assert keras.config.dtype_policy().name == "float32"  # restored after the run
    assert math.isfinite(result.metrics["loss"]) and 0 <= result.metrics["accuracy"] <= 1
    assert list(result.history) == ["epoch", "loss", "accuracy", "top5_accuracy", "learning_rate"]


def test_gradient_clipping_bounds_the_update():
    _, info = load_dataset("digits", "train")
    model = _dense_model()
    recipe = Recipe(**{**FAST, "optimizer": "sgd", "momentum": 0.0, "learning_rate": 1.0, "schedule": "constant",
                       "clipnorm": 0.5})
    compile_model(model, recipe, info, steps_per_epoch=5)
    before = [v.numpy() for v in model.trainable_variables]
    grads = [np.full_like(before[0], 30.0), np.full_like(before[1], 40.0)]
    model.optimizer.apply(grads, model.trainable_variables)
    step = np.sqrt(sum(np.sum((v.numpy() - b) ** 2) for v, b in zip(model.trainable_variables, before)))
    assert step == pytest.approx(0.5, rel=1e-5)


def test_course_tutorial_network_has_the_documented_size():
    from kerascv_course.models import get_spec
    from kerascv_course.models.course import build_tf_cifar10_tutorial

    assert build_tf_cifar10_tutorial(input_shape=(24, 24, 3)).count_params() == 1_068_298
    assert get_spec("tf_cifar10_tutorial").builder is build_tf_cifar10_tutorial
    assert "tf_cifar10_tutorial" in __import__("kerascv_course").list_models()


def test_train_epoch_releases_its_iterator_in_the_background(monkeypatch):
    """The epoch's dataset iterator is dropped off the main thread (its destructor can wait
    seconds for tf.data's autotuner), and really dropped: nothing keeps it alive."""
    import threading
    import weakref

    import tensorflow as tf

    from kerascv_course.training import engine as engine_module

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(keras.optimizers.SGD(0.1), "mse")
    engine = engine_module.Engine(model, tf.distribute.get_strategy())
    data = tf.data.Dataset.from_tensor_slices((np.ones((8, 2), np.float32), np.zeros((8, 1), np.float32))).batch(2)
    made, released_on = [], []

    def spying_iter(obj):
        iterator = iter(obj)
        made.append(weakref.ref(iterator))
        weakref.finalize(iterator, lambda: released_on.append(threading.current_thread().name))
        return iterator

    monkeypatch.setattr(engine_module, "iter", spying_iter, raising=False)
    logs = engine.train_epoch(data, steps=3)
    assert set(logs) == {"loss"} and np.isfinite(logs["loss"])
    assert len(made) == 1
    for thread in threading.enumerate():
        if thread.name == "release-iterator":
            thread.join(timeout=30)
    assert made[0]() is None
    assert released_on == ["release-iterator"]


def test_resize_modes_of_the_schema_are_the_pipelines():
    from kerascv_course.data.constants import RESIZE_MODES
    from kerascv_course.training.recipe import RESIZE_MODES as SCHEMA_MODES

    assert SCHEMA_MODES == RESIZE_MODES


@pytest.mark.parametrize(
    "changes, match",
    [
        (dict(dataset_kwargs={"per_clas": 5}), "per_clas"),
        (dict(resize_mode="crop"), "resize_mode"),
        (dict(resize_mode="pad", augment="alexnet"), "crops images to the model's size itself"),
        (dict(model="unet", dataset="cracks", resize_mode="pad"), "applies to classification"),
    ],
)
def test_dataset_options_and_resize_mode_are_checked_without_tensorflow(changes, match):
    with pytest.raises(ValueError, match=match):
        check_recipe(Recipe(**{**FAST, **changes}))
