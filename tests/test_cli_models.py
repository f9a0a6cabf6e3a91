"""``kerascv-course list`` and ``kerascv-course summary``: what a user reads off the terminal."""

from __future__ import annotations

from kerascv_course.cli import main
from kerascv_course.models import get_spec, list_models


def test_list_prints_every_model_with_its_exact_parameter_count(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    rows = {line.split()[0]: line for line in out.splitlines()[2:]}
    assert sorted(rows) == list_models()
    for name, line in rows.items():
        spec = get_spec(name)
        assert f"{spec.params:,}" in line.split()
        assert str(spec.year) in line  # the paper column carries the year, unformatted
        # No year printed with a thousands separator (62,006 parameters is not one).
        assert f"{spec.year:,}" not in [token.strip("(),") for token in line.split()]


def test_list_filters_by_task_and_pattern(capsys):
    assert main(["list", "--task", "segmentation"]) == 0
    assert [line.split()[0] for line in capsys.readouterr().out.splitlines()[2:]] == ["unet"]
    assert main(["list", "resnet5*"]) == 0
    names = [line.split()[0] for line in capsys.readouterr().out.splitlines()[2:]]
    assert names == ["resnet50", "resnet50_v2", "resnet56"]


def test_summary_totals_the_models_parameters(capsys):
    assert main(["summary", "lenet5", "--weighted-only"]) == 0
    out = capsys.readouterr().out
    total = [line for line in out.splitlines() if line.startswith("total")]
    assert len(total) == 1 and "61,706" in total[0].split()


def test_summary_of_an_unknown_model_is_a_clear_error(capsys):
    assert main(["summary", "resnet500"]) == 2
    err = capsys.readouterr().err
    assert "resnet500" in err and "resnet50" in err
