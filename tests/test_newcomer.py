"""A newcomer's first hour: progress lines, numbering that agrees, errors that say how to fix."""

from __future__ import annotations

import json
import re

from kerascv_course.cli import main
from kerascv_course.tuning.search import read_trials_csv

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
    from kerascv_course.tuning.search import hyperband_trials

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
