"""Training: strategies, the trainer, schedules, callbacks and the :class:`Recipe`."""

from __future__ import annotations

from kerascv_course.training.recipe import Recipe
from kerascv_course.training.strategy import get_strategy
from kerascv_course.training.trainer import RunResult, train

__all__ = ["Recipe", "RunResult", "get_strategy", "train"]
