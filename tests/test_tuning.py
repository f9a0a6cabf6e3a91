"""Hyperparameter search: spaces as data, the generic hypermodel, tuners, results, bad input."""

from __future__ import annotations

import csv
import json
import os

import keras_tuner
import numpy as np
import pytest

from kerascv_course.data import list_datasets
from kerascv_course.models import get_spec, list_models
from kerascv_course.training import Recipe
from kerascv_course.tuning import (
    SPACES,
    CourseHyperModel,
    apply_hparams,
    family_table,
    load_hparams,
    load_space,
    resolve_space,
    tune,
)
from kerascv_course.tuning.search import check_search_dir, prepare_search_dir
from kerascv_course.tuning.spaces import builder_args, policy_names
from kerascv_course.tuning.trials import read_trials_csv

# Two learning rates, one hopeless for a 1-epoch run: any two trials that differ in it differ
# clearly. Four combinations, three trials: both rates are always tried.
MIXED_LR_SPACE = {
    "learning_rate": {"values": [1e-6, 3e-3]},
    "hidden_units": {"values": [[32], [64]]},
}


def _dataset_for(model: str) -> str:
    if get_spec(model).task == "segmentation":
        return list_datasets(task="segmentation")[0]
    return "digits"


def _recipe(tmp_path, name="search", **changes) -> Recipe:
    base = dict(model="mlp", dataset="digits", epochs=1, batch_size=64, output=str(tmp_path / name))
    return Recipe(**{**base, **changes})


# ------------------------------------------------------------------------------------------
# Spaces as data.


def test_every_registered_model_is_covered_by_a_family_table():
    uncovered = [m for m in list_models() if get_spec(m).family not in SPACES]
    assert uncovered == []
    assert all(family_table(m)[0] == get_spec(m).family for m in list_models())


@pytest.mark.parametrize("table_name", SPACES.names())
def test_family_table_resolves_for_each_of_its_models(table_name):
    """Each table means something for its models: its builder arguments exist, its policies too,
    and the space resolves and declares for every registered model it covers."""
    from kerascv_course.tuning.spaces import recipe_field_types

    table = {"space": SPACES.get(table_name).space}
    registered = [m for m in list_models() if get_spec(m).family == table_name]
    assert registered, f"table {table_name} covers no registered model"
    accepted = set().union(*(builder_args(m) for m in registered))
    recipe_fields = set(recipe_field_types())
    for name, rng in table["space"].items():
        if name.startswith("augment.") or name in recipe_fields or "models" in rng:
            continue
        assert name in accepted, f"{table_name}: {name!r} is no argument of {registered}"
    task = get_spec(registered[0]).task
    policies = table["space"].get("augment", {}).get("values", [])
    assert set(policies) <= set(policy_names(task))
    for model in registered:
        assert family_table(model)[0] == table_name
        recipe = Recipe(model=model, dataset=_dataset_for(model))
        space = resolve_space(recipe)
        assert len(space.params) >= 5
        assert set(space.names) <= set(table["space"])
        hp = keras_tuner.HyperParameters()
        values = space.declare(hp)
        assert [p.name for p in hp.space] == space.names
        assert set(values) <= set(space.names)
        # The default values describe a recipe of the same family, trainable as it is.
        trial = apply_hparams(recipe, space.to_hparams(values))
        assert get_spec(trial.model).family == get_spec(model).family
        assert set(trial.model_kwargs) <= set(builder_args(trial.model))


def test_variant_hyperparameter_picks_registered_models():
    space = resolve_space(Recipe(model="resnet32", dataset="digits"))
    depth = space["depth"]
    assert depth.target == "variant" and depth.default == 32
    assert dict(depth.models) == {20: "resnet20", 32: "resnet32", 44: "resnet44", 56: "resnet56"}
    assert space.to_hparams({"depth": 44, "shortcut": "B"}) == {"model": "resnet44",
                                                                "model_kwargs": {"shortcut": "B"}}


def test_user_space_builds_the_same_space_as_the_equivalent_hypermodel():
    recipe = Recipe(model="mobilenet", dataset="shapes", learning_rate=1e-3)
    user = {"learning_rate": {"min": 1e-4, "max": 1e-1, "sampling": "log"},
            "alpha": {"values": [0.25, 0.5]},
            "momentum": {"min": 0.8, "max": 0.95, "when": {"optimizer": ["sgd", "rmsprop"]}},
            "optimizer": {"values": ["sgd", "adam"]}}

    class HandWritten(keras_tuner.HyperModel):
        def build(self, hp):
            hp.Float("learning_rate", 1e-4, 1e-1, sampling="log", default=1e-3)
            hp.Choice("alpha", [0.25, 0.5])
            hp.Choice("optimizer", ["sgd", "adam"], default="adam")  # the recipe's value
            with hp.conditional_scope("optimizer", ["sgd", "rmsprop"]):
                hp.Float("momentum", 0.8, 0.95, default=0.9)

    ours, theirs = keras_tuner.HyperParameters(), keras_tuner.HyperParameters()
    info = type("Info", (), {"task": "classification"})()
    CourseHyperModel(recipe, info, space=user).declare_hyperparameters(ours)
    HandWritten().build(theirs)
    ours_config = {h.name: h.get_config() for h in ours.space}
    theirs_config = {h.name: h.get_config() for h in theirs.space}
    assert ours_config == theirs_config
    # The parent is declared before the hyperparameter it conditions, whatever the dict's order.
    assert [h.name for h in ours.space].index("optimizer") < [h.name for h in ours.space].index("momentum")


def test_family_table_given_as_a_dict_is_the_default_space():
    recipe = Recipe(model="lenet5", dataset="digits")
    assert resolve_space(recipe, SPACES.get("lenet").space) == resolve_space(recipe)


def test_null_range_takes_the_family_range_and_augment_options_are_conditioned():
    recipe = Recipe(model="resnet20", dataset="digits")
    space = resolve_space(recipe, {"augment": None, "augment.cutout_size": None, "depth": None})
    assert space["augment"].values == ("none", "cifar")
    assert space["augment.cutout_size"].when == ("augment", ("cifar",))
    hp = keras_tuner.HyperParameters()
    hp.values["augment"] = "cifar"
    values = space.declare(hp)
    assert space.to_hparams({**values, "augment.cutout_size": 8, "depth": 56}) == {
        "augment": "cifar", "augment_kwargs": {"cutout_size": 8}, "model": "resnet56"}


def test_space_file_json_and_yaml(tmp_path):
    path = tmp_path / "space.json"
    path.write_text(json.dumps(MIXED_LR_SPACE))
    assert load_space(path) == MIXED_LR_SPACE
    space = resolve_space(Recipe(model="mlp", dataset="digits"), str(path))
    assert space.names == ["learning_rate", "hidden_units"]
    assert space["hidden_units"].values == ((32,), (64,))
    yaml_path = tmp_path / "space.yaml"
    yaml_path.write_text("learning_rate:\n  min: 0.0001\n  max: 0.1\n  sampling: log\n")
    try:
        import yaml  # noqa: F401
    except ImportError:
        with pytest.raises(ValueError, match="PyYAML"):
            load_space(yaml_path)
    else:
        assert load_space(yaml_path) == {"learning_rate": {"min": 1e-4, "max": 0.1, "sampling": "log"}}


BAD_SPACES = [
    ({"colour": {"values": [1, 2]}}, r"unknown hyperparameter 'colour' for mlp.*Known names:.*dropout"),
    ({"alpha": {"values": [0.5]}}, r"unknown hyperparameter 'alpha'"),
    ({"learning_rate": {"values": []}}, r"non-empty list.*empty"),
    ({"learning_rate": {"min": 0.1, "max": 0.1}}, r"is empty: 'min' equals 'max'"),
    ({"learning_rate": {"min": 0.1, "max": 1e-4}}, r"is inverted"),
    ({"learning_rate": {"min": 0.0, "max": 0.1, "sampling": "log"}}, r"needs 'min' > 0"),
    ({"learning_rate": {"min": 1e-4, "max": 0.1, "sampling": "cubic"}}, r"sampling.*linear, log"),
    ({"learning_rate": {"low": 1e-4}}, r"unknown key\(s\) \['low'\]"),
    ({"batch_size": {"min": 16.5, "max": 64}}, r"integer hyperparameter"),
    ({"optimizer": {"min": 1, "max": 2}}, r"is a str: give its choices as 'values'"),
    ({"momentum": {"min": 0.5, "max": 0.9}}, r"only acts when optimizer.*fixed at 'adam'"),
    ({"augment": {"values": ["none", "mixup"]}}, r"unknown augmentation policy \['mixup'\]"),
    ({"augment.cutout_size": {"values": [0, 8]}}, r"no augmentation policy searched \(none\)"),
    ({}, r"`space` is empty"),
    ({"dataset": {"values": ["digits"]}}, r"unknown hyperparameter 'dataset'"),
]


def test_bad_spaces_are_refused():
    # One test over all cases: each case is cheap, a test's set-up and tear-down are not.
    for space, message in BAD_SPACES:
        with pytest.raises(ValueError, match=message):
            resolve_space(Recipe(model="mlp", dataset="digits"), space)


def test_variant_value_without_a_model_is_refused():
    with pytest.raises(ValueError, match=r"no registered model for \[99\]"):
        resolve_space(Recipe(model="resnet20", dataset="digits"), {"depth": {"values": [20, 99]}})


# ------------------------------------------------------------------------------------------
# Best-hyperparameter files.


def test_apply_hparams_sets_fields_and_merges_kwargs():
    recipe = Recipe(model="mlp", dataset="digits", model_kwargs={"activation": "tanh"})
    out = apply_hparams(recipe, {"learning_rate": 0.01, "batch_size": 32.0, "optimizer": "sgd",
                                 "model_kwargs": {"hidden_units": [64]}})
    assert (out.learning_rate, out.batch_size, out.optimizer) == (0.01, 32, "sgd")
    assert isinstance(out.batch_size, int)
    assert out.model_kwargs == {"activation": "tanh", "hidden_units": [64]}
    assert recipe.learning_rate == 1e-3 and recipe.model_kwargs == {"activation": "tanh"}
    with pytest.raises(ValueError, match="may not set dataset, output"):
        apply_hparams(recipe, {"dataset": "shapes", "output": "x"})
    with pytest.raises(ValueError, match="variant of mlp's family"):
        apply_hparams(recipe, {"model": "vgg16"})
    with pytest.raises(TypeError, match="model_kwargs"):
        apply_hparams(recipe, {"model_kwargs": [1]})


# ------------------------------------------------------------------------------------------
# Searches.


@pytest.fixture(scope="module")
def random_search(tmp_path_factory):
    """A 3-trial random search of an MLP on digits, kept for the tests that read its folder."""
    out = tmp_path_factory.mktemp("random")
    recipe = Recipe(model="mlp", dataset="digits", epochs=1, batch_size=64, output=str(out / "s"))
    return tune(recipe, tuner="random", max_trials=3, space=MIXED_LR_SPACE, retrain=False)


def _check_search(result, n_trials):
    rows = result.trials
    assert [r["status"] for r in rows] == ["COMPLETED"] * n_trials
    scores = [r["val_accuracy"] for r in rows]
    assert result.best_score == max(scores) > min(scores)
    best = next(r for r in rows if r["trial"] == result.best_trial)
    assert best["learning_rate"] == 3e-3
    assert result.best_hparams["learning_rate"] == 3e-3
    assert {r["learning_rate"] for r in rows} == {1e-6, 3e-3}
    for row in rows:
        assert row["epochs"] >= 1 and row["seconds"] > 0
        assert row["params"] == (1024 + 1) * int(row["hidden_units"]) + (int(row["hidden_units"]) + 1) * 10


@pytest.mark.slow
def test_random_search_on_digits(random_search):
    result = random_search
    _check_search(result, 3)
    assert result.new_trials == ["0", "1", "2"]
    out = result.output
    with open(os.path.join(out, "trials.csv"), newline="") as fh:
        table = list(csv.DictReader(fh))
    assert [r["trial"] for r in table] == ["0", "1", "2"]
    assert list(table[0]) == ["trial", "status", "learning_rate", "hidden_units", "val_accuracy",
                              "epochs", "best_epoch", "seconds", "params"]
    assert [float(r["val_accuracy"]) for r in table] == pytest.approx(
        [r["val_accuracy"] for r in result.trials])
    assert load_hparams(os.path.join(out, "best_hparams.json")) == result.best_hparams
    for png in ("trials.png", "hparams.png"):
        with open(os.path.join(out, png), "rb") as fh:
            assert fh.read(8) == b"\x89PNG\r\n\x1a\n"
    assert not os.path.exists(os.path.join(out, "best"))


@pytest.mark.slow
def test_bayesian_search_on_digits(tmp_path):
    # Two random starts on a one-dimensional space try both rates; the third is the GP's pick.
    space = {"learning_rate": {"values": [1e-6, 3e-3]}}
    result = tune(_recipe(tmp_path, model_kwargs={"hidden_units": [32]}), tuner="bayesian",
                  max_trials=3, space=space, num_initial_points=2, retrain=False)
    rows = result.trials
    assert [r["status"] for r in rows] == ["COMPLETED"] * 3
    assert {r["learning_rate"] for r in rows[:2]} == {1e-6, 3e-3}
    scores = [r["val_accuracy"] for r in rows]
    assert result.best_score == max(scores) > min(scores)
    assert result.best_hparams == {"learning_rate": 3e-3}


@pytest.mark.slow
def test_hyperband_search_continues_the_best_trial(tmp_path):
    # max_epochs 3, factor 3: three 1-epoch trials, then the best one continued to epoch 3.
    result = tune(_recipe(tmp_path, epochs=3), tuner="hyperband", max_trials=4,
                  space=MIXED_LR_SPACE, retrain=False, patience=0)
    rows = result.trials
    assert [r["budget"] for r in rows] == [1, 1, 1, 3]
    first = rows[:3]
    best_first = max(first, key=lambda r: r["val_accuracy"])
    assert rows[3]["from_trial"] == best_first["trial"]
    assert rows[3]["epochs"] == 2 and rows[3]["best_epoch"] in (2, 3)
    assert {r["learning_rate"] for r in first} == {1e-6, 3e-3}
    assert result.best_score == max(r["val_accuracy"] for r in rows) > min(r["val_accuracy"] for r in rows)


@pytest.mark.slow
def test_width_and_resolution_search_on_shapes(tmp_path):
    """MobileNet on shapes: each trial builds the width and input side its hyperparameters say."""
    from kerascv_course.models import get_model

    recipe = Recipe(model="mobilenet", dataset="shapes", epochs=1, batch_size=32,
                    output=str(tmp_path / "s"), tensorboard=False,
                    dataset_kwargs={"num_classes": 3,
                                    "num_examples": {"train": 256, "validation": 64, "test": 64}})
    space = {"alpha": {"values": [0.25, 0.5]}, "image_size": {"values": [32, 48]}}
    result = tune(recipe, tuner="random", max_trials=2, space=space, retrain=False)
    rows = result.trials
    assert [r["status"] for r in rows] == ["COMPLETED"] * 2
    from kerascv_course.training.run_data import load_splits

    splits, info = load_splits(recipe)
    hypermodel = CourseHyperModel(recipe, info, splits, space=space)
    for row in rows:
        side = row["image_size"]
        reference = get_model("mobilenet", alpha=row["alpha"], input_shape=(side, side, 3), classes=3)
        assert row["params"] == reference.count_params()
        # The trial's model and pipelines, as the tuner builds them from these values.
        hp = keras_tuner.HyperParameters()
        hp.values.update(alpha=row["alpha"], image_size=side)
        model = hypermodel.build(hp)
        assert model.input_shape == (None, side, side, 3)
        assert model.count_params() == row["params"]
        train = hypermodel.run_data(hypermodel.trial_recipe(hp), model).train(0)
        assert tuple(next(iter(train))[0].shape) == (32, side, side, 3)
    best = max(rows, key=lambda r: r["val_accuracy"])
    assert result.best_trial == best["trial"]
    assert result.best_hparams == {"image_size": best["image_size"],
                                   "model_kwargs": {"alpha": best["alpha"]}}


@pytest.mark.slow
def test_resume_runs_only_the_new_trials(random_search, tmp_path):
    import shutil

    out = str(tmp_path / "s")
    shutil.copytree(random_search.output, out)
    stamps = {t: os.path.getmtime(os.path.join(out, "trials", f"trial_{t}", "checkpoint.weights.h5"))
              for t in ("0", "1", "2")}
    recipe = Recipe(model="mlp", dataset="digits", epochs=1, batch_size=64, output=out)
    result = tune(recipe, tuner="random", max_trials=4, space=MIXED_LR_SPACE, retrain=False)
    assert result.new_trials == ["3"]
    assert [r["trial"] for r in result.trials] == ["0", "1", "2", "3"]
    for t, stamp in stamps.items():
        assert os.path.getmtime(os.path.join(out, "trials", f"trial_{t}", "checkpoint.weights.h5")) == stamp
    # The same search again runs nothing; --overwrite starts afresh.
    assert tune(recipe, tuner="random", max_trials=4, space=MIXED_LR_SPACE, retrain=False).new_trials == []
    fresh = tune(recipe.replace(overwrite=True), tuner="random", max_trials=1, space=MIXED_LR_SPACE,
                 retrain=False)
    assert fresh.new_trials == ["0"] and len(fresh.trials) == 1


@pytest.mark.slow
def test_best_hparams_round_trip_into_train(random_search, tmp_path):
    from kerascv_course.training import train

    hparams = load_hparams(os.path.join(random_search.output, "best_hparams.json"))
    base = Recipe(model="mlp", dataset="digits", epochs=1, output=str(tmp_path / "run"))
    recipe = apply_hparams(base, hparams)
    assert recipe.learning_rate == 3e-3
    run = train(recipe, verbose=0)
    saved = Recipe.from_dict(json.load(open(os.path.join(run.output, "recipe.json"))))
    assert saved.learning_rate == 3e-3
    assert list(saved.model_kwargs["hidden_units"]) == hparams["model_kwargs"]["hidden_units"]
    units = hparams["model_kwargs"]["hidden_units"][0]
    assert run.model.get_layer("hidden1").units == units
    assert run.metrics["accuracy"] > 0.5
    # The same file through the command line the README shows.
    from kerascv_course.cli import main

    out = str(tmp_path / "cli-run")
    assert main(["train", "mlp", "--dataset", "digits", "--epochs", "1", "--output", out,
                 "--hparams", os.path.join(random_search.output, "best_hparams.json")]) == 0
    saved = json.load(open(os.path.join(out, "recipe.json")))
    assert saved["learning_rate"] == 3e-3
    assert list(saved["model_kwargs"]["hidden_units"]) == [units]


# ------------------------------------------------------------------------------------------
# Bad input to a search.


def test_unknown_tuner_and_bad_numbers_fail_before_any_work(tmp_path):
    recipe = _recipe(tmp_path)
    with pytest.raises(ValueError, match=r"`tuner` must be one of random, hyperband, bayesian.*'grid'"):
        tune(recipe, tuner="grid", space=MIXED_LR_SPACE)
    with pytest.raises(ValueError, match="max_trials"):
        tune(recipe, max_trials=0, space=MIXED_LR_SPACE)
    with pytest.raises(ValueError, match="multiworker"):
        tune(recipe.replace(strategy="multiworker"), space=MIXED_LR_SPACE)
    with pytest.raises(ValueError, match=r"space\['optimizer'\]`: the value 'adagrad' is refused"):
        tune(recipe, space={"optimizer": {"values": ["sgd", "adagrad"]}})
    assert not os.path.exists(recipe.output)


def test_objective_the_model_does_not_report(tmp_path):
    recipe = _recipe(tmp_path)
    with pytest.raises(ValueError, match=r"metric the model reports: .*val_accuracy.*val_mean_iou"):
        tune(recipe, objective="val_mean_iou", space=MIXED_LR_SPACE)
    assert not os.path.exists(os.path.join(recipe.output, "trials"))


def test_search_folder_of_another_model_is_refused(tmp_path):
    out = str(tmp_path / "s")
    lenet = Recipe(model="lenet5", dataset="digits", output=out)
    space = resolve_space(lenet, {"learning_rate": {"values": [1e-3, 1e-2]}})
    record = {"model": "lenet5", "dataset": "digits", "tuner": "random",
              "objective": "val_accuracy", "space": space.to_config()}
    assert prepare_search_dir(out, record, overwrite=False, role="standalone") is False
    assert check_search_dir(out, record, overwrite=False) is True
    with pytest.raises(ValueError, match=r"holds another search: lenet5 on digits.*differ in model"):
        tune(Recipe(model="mlp", dataset="digits", output=out), space=MIXED_LR_SPACE)
    os.makedirs(os.path.join(str(tmp_path / "bare"), "trials"))
    open(os.path.join(str(tmp_path / "bare"), "trials", "oracle.json"), "w").close()
    with pytest.raises(ValueError, match="no search.json"):
        check_search_dir(str(tmp_path / "bare"), record, overwrite=False)


# ------------------------------------------------------------------------------------------
# The command line.


def test_cli_show_space_and_errors(capsys, tmp_path):
    from kerascv_course.cli import main

    assert main(["tune", "densenet121", "--show-space"]) == 0
    out = capsys.readouterr().out
    assert "growth_rate" in out and "169->densenet169" in out
    assert main(["tune", "mlp", "--dataset", "digits", "--tuner", "grid",
                 "--output", str(tmp_path / "x")]) == 2
    assert "`tuner` must be one of" in capsys.readouterr().err
    space = tmp_path / "space.json"
    space.write_text('{"learning_rate": {"min": 1, "max": 0.1}}')
    assert main(["tune", "mlp", "--dataset", "digits", "--space", str(space),
                 "--output", str(tmp_path / "y")]) == 2
    assert "inverted" in capsys.readouterr().err


# ------------------------------------------------------------------------------------------
# Plots and importance.


def test_hparam_importance_matches_independent_formulas(tmp_path):
    from scipy.stats import spearmanr

    from kerascv_course.viz.tuning import hparam_importance, plot_hparams, plot_trials

    rng = np.random.default_rng(0)
    lrs = 10 ** rng.uniform(-4, -1, 12)
    opts = ["sgd", "adam", "sgd", "rmsprop"] * 3
    acc = 0.5 + 0.1 * np.log10(lrs) + rng.normal(0, 0.02, 12) + [0.05 if o == "adam" else 0 for o in opts]
    momentum = [0.9, 0.5, 0.8, 0.7, 0.6, 0.95] + [None] * 6  # active in half of the trials
    rows = [{"trial": str(i), "learning_rate": lrs[i], "optimizer": opts[i], "constant": 1,
             "momentum": momentum[i], "rare": 1.0 if i < 2 else None,
             "val_accuracy": acc[i]} for i in range(12)]
    rows.append({"trial": "12", "learning_rate": 0.5, "optimizer": "sgd", "constant": 1,
                 "val_accuracy": None})
    ranked = dict(hparam_importance(
        rows, objective="val_accuracy",
        hparams=["learning_rate", "optimizer", "constant", "momentum", "rare"]))
    assert ranked["learning_rate"] == pytest.approx(spearmanr(lrs, acc).statistic ** 2)
    assert ranked["momentum"] == pytest.approx(spearmanr(momentum[:6], acc[:6]).statistic ** 2 / 2)
    assert ranked["rare"] == 0.0
    groups = {o: acc[[x == o for x in opts]] for o in set(opts)}
    eta2 = sum(len(g) * (g.mean() - acc.mean()) ** 2 for g in groups.values()) / ((acc - acc.mean()) ** 2).sum()
    assert ranked["optimizer"] == pytest.approx(eta2)
    assert ranked["constant"] == 0.0
    for fn, name in ((plot_trials, "t.png"), (plot_hparams, "h.png")):
        kwargs = {"hparams": ["learning_rate", "optimizer"], "log_scale": {"learning_rate"}} \
            if fn is plot_hparams else {}
        path = fn(rows, tmp_path / name, objective="val_accuracy", **kwargs)
        import matplotlib.image

        image = matplotlib.image.imread(path)
        assert image.ndim == 3 and image.shape[0] > 200 and image.shape[1] > 400


def test_read_trials_csv_round_trip(tmp_path):
    from kerascv_course.tuning.trials import format_trials_table, write_trials_csv

    rows = [{"trial": "0", "status": "COMPLETED", "lr": 0.001, "val_accuracy": 0.9},
            {"trial": "1", "status": "FAILED", "lr": 0.1, "val_accuracy": None}]
    path = write_trials_csv(rows, str(tmp_path / "trials.csv"))
    assert read_trials_csv(path) == [
        {"trial": "0", "status": "COMPLETED", "lr": "0.001", "val_accuracy": "0.9"},
        {"trial": "1", "status": "FAILED", "lr": "0.1", "val_accuracy": ""}]
    text = format_trials_table(rows, best="0").splitlines()
    assert text[0].split() == ["trial", "status", "lr", "val_accuracy"]
    assert text[1].split() == ["0*", "COMPLETED", "0.001", "0.9"]
    assert text[2].split() == ["1", "FAILED", "0.1", "-"]
