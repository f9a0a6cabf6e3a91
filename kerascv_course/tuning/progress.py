"""A search's progress lines: one when each trial starts and one when it ends, and the number of
trials a Hyperband iteration plans (used by :func:`kerascv_course.tuning.search.tune`)."""

from __future__ import annotations

import math
import time
from typing import Any

from kerascv_course.tuning.spaces import SearchSpace, encode_choice


def hyperband_trials(max_epochs: int, factor: int, min_epochs: int = 1) -> int:
    """The trials of one Hyperband iteration (keras-tuner's schedule: its brackets of successive
    halving, each starting ``ceil((1 + log_factor max_epochs) / (b + 1) * factor**b)`` models)."""
    brackets, epochs = 0, float(max_epochs)
    while epochs >= min_epochs:
        epochs, brackets = epochs / factor, brackets + 1
    end0 = math.ceil(1 + math.log(max_epochs, factor))
    return sum(math.ceil(end0 / (b + 1) * factor ** (b - r))
               for b in range(brackets) for r in range(b + 1))


def _short(value: Any) -> str:
    """A hyperparameter value for a progress line."""
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(encode_choice(value))


class TrialProgress:
    """One line when a trial starts and one when it ends: its number of the planned total, its
    hyperparameters, its score, the best so far and the time left (trials are numbered by
    keras-tuner's trial id, as in ``trials.csv``, ``trials.png`` and ``trials/trial_<id>``)."""

    def __init__(self, write: Any, *, space: SearchSpace, objective: str, direction: str,
                 planned: int) -> None:
        self.write, self.space, self.objective = write, space, objective
        self.direction, self.planned = direction, planned
        self.started: dict[str, float] = {}
        self.durations: list[float] = []

    def begin(self, trial: Any, done_before: int) -> None:
        self.started[trial.trial_id] = time.monotonic()
        values = trial.hyperparameters.values
        shown = [f"{p.name}={_short(values[p.name])}" for p in self.space.params if p.name in values]
        if "tuner/epochs" in values:
            shown.append(f"epochs={values['tuner/epochs']}")
            if values.get("tuner/trial_id") is not None:
                shown.append(f"continues trial {values['tuner/trial_id']}")
        self.write(f"Trial {trial.trial_id} ({done_before + 1} of {self.planned}) started: "
                   f"{', '.join(shown) or 'default hyperparameters'}")

    def end(self, trial: Any, oracle: Any, done: int) -> None:
        seconds = time.monotonic() - self.started.pop(trial.trial_id, time.monotonic())
        self.durations.append(seconds)
        score = trial.score if trial.status == "COMPLETED" else None
        result = (f"{self.objective} {score:.4f}" if score is not None and not math.isnan(score)
                  else f"{trial.status.lower()}")
        best = [t for t in oracle.get_best_trials(1) if t.score is not None]
        best_text = (f"best so far {best[0].score:.4f} (trial {best[0].trial_id})" if best
                     else "no trial finished yet")
        left = max(0, self.planned - done)
        eta = (f", about {_duration(left * sum(self.durations) / len(self.durations))} left"
               if left else "")
        self.write(f"Trial {trial.trial_id} ({done} of {self.planned}) ended in "
                   f"{_duration(seconds)}: {result}; {best_text}{eta}")


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
