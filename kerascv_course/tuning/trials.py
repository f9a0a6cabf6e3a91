"""The trials table of a search: rows from keras-tuner's oracle, ``trials.csv`` and the aligned
text the command line prints (trials numbered by keras-tuner's trial id everywhere)."""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from typing import Any

from kerascv_course.tuning.spaces import SearchSpace, encode_choice
from kerascv_course.utils.files import atomic_path

TRIAL_STATS = ("epochs", "best_epoch", "seconds", "params")


def trial_rows(oracle: Any, space: SearchSpace, objective: str, *, tuner: str) -> list[dict[str, Any]]:
    """One dict per trial, in trial order: hyperparameters, objective and statistics."""
    rows = []
    for trial_id in sorted(oracle.trials, key=int):
        trial = oracle.trials[trial_id]
        values = trial.hyperparameters.values
        row: dict[str, Any] = {"trial": trial_id, "status": trial.status}
        for p in space.params:
            row[p.name] = encode_choice(values[p.name]) if p.name in values else None
        if tuner == "hyperband":
            row["budget"] = values.get("tuner/epochs")
            row["from_trial"] = values.get("tuner/trial_id")
        done = trial.status == "COMPLETED" and trial.score is not None
        row[objective] = float(trial.score) if done else None
        for stat in TRIAL_STATS:
            value = trial.metrics.get_last_value(stat) if trial.metrics.exists(stat) else None
            if value is not None and stat != "seconds":
                value = int(round(value))
            row[stat] = value
        rows.append(row)
    return rows


def write_trials_csv(rows: Sequence[Mapping[str, Any]], path: str) -> str:
    """Write the trials table as CSV (atomically); empty cells for missing values."""
    columns = list(rows[0]) if rows else ["trial", "status"]
    with atomic_path(path) as tmp, open(tmp, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: ("" if v is None else v) for k, v in row.items()})
    return path


def read_trials_csv(path: str) -> list[dict[str, str]]:
    """The rows of a ``trials.csv`` (values as strings)."""
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def format_trials_table(rows: Sequence[Mapping[str, Any]], *, best: str | None = None) -> str:
    """The trials table as aligned text, the best trial marked with ``*``."""
    if not rows:
        return "(no trials)"
    columns = list(rows[0])

    def cell(value: Any) -> str:
        if value is None:
            return "-"
        if isinstance(value, float):
            if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e5):
                return f"{value:.3g}"
            return f"{value:.4g}"
        return str(value)

    body = [[cell(r.get(c)) + ("*" if c == "trial" and r.get("trial") == best else "")
             for c in columns] for r in rows]
    widths = [max(len(c), *(len(b[i]) for b in body)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(b, widths)) for b in body]
    return "\n".join(lines)
