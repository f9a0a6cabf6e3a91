"""Learning-rate schedules of the papers, as Keras' built-in schedule objects.

Every schedule is expressed in *epochs* (or steps) and turned into a Keras
``LearningRateSchedule`` over optimizer steps once the number of steps per epoch is known. Only
Keras' own schedule classes are used, so a saved ``model.keras`` loads anywhere without this
package.

============ ====================================================================================
name         schedule (options in ``schedule_kwargs``)
============ ====================================================================================
constant     the base rate throughout
step         multiply by ``factor`` (0.1) at each of ``milestones=[30, 60, …]`` (epochs; or
             ``milestone_steps=[…]`` in optimizer steps);
             or give explicit ``multipliers=[1, .4, .2, …]`` (one more than boundaries). Optional
             constant warm-up: ``warmup_epochs``/``warmup_steps`` at ``warmup_factor`` × the rate
             (He et al. 2015's ResNet-110: 0.01 for the first 400 iterations, then 0.1)
exponential  multiply by ``rate`` every ``every_epochs`` (GoogLeNet: 0.96 every 8 epochs;
             Inception-v3/Xception/MobileNet: 0.94 every 2); ``staircase`` (True)
cosine       half-cosine from the rate to ``alpha`` × the rate over the run (Loshchilov &
             Hutter 2016), after a linear warm-up of ``warmup_epochs`` from ``warmup_from`` ×
             the rate (Goyal et al. 2017)
poly         polynomial decay to ``end`` × the rate with ``power`` (1: linear; SqueezeNet)
plateau      the base rate, divided by ``1/factor`` when ``monitor`` (``val_loss``) has not
             improved for ``patience`` epochs, at most ``max_reductions`` times — "divide the
             learning rate by 10 when the validation error stops improving" (AlexNet, VGG,
             ResNet); done by :class:`kerascv_course.training.callbacks.PlateauDecay`
============ ====================================================================================
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import keras

SCHEDULES = ("constant", "step", "exponential", "cosine", "poly", "plateau")

_OPTIONS: dict[str, dict[str, Any]] = {
    "constant": {},
    "step": dict(
        milestones=None, milestone_steps=None, factor=0.1, multipliers=None, warmup_epochs=0, warmup_steps=0,
        warmup_factor=0.1,
    ),
    "exponential": dict(rate=0.94, every_epochs=2.0, staircase=True),
    "cosine": dict(alpha=0.0, warmup_epochs=0.0, warmup_from=0.0),
    "poly": dict(power=1.0, end=0.0),
    "plateau": dict(
        monitor="val_loss", factor=0.1, patience=5, min_delta=1e-4, cooldown=0, min_lr=0.0,
        max_reductions=None,
    ),
}


def schedule_options(name: str, kwargs: dict[str, Any] | None = None) -> dict[str, Any]:
    """The schedule's options: its defaults updated by ``kwargs``.

    Raises:
        ValueError: for an unknown schedule name or option (the message lists the valid ones).
    """
    if name not in SCHEDULES:
        raise ValueError(f"`schedule` must be one of {', '.join(SCHEDULES)}. Received: schedule={name!r}")
    kwargs = dict(kwargs or {})
    allowed = _OPTIONS[name]
    unknown = sorted(set(kwargs) - set(allowed))
    if unknown:
        valid = ", ".join(allowed) or "none"
        raise ValueError(
            f"Unknown option(s) {', '.join(unknown)} for schedule {name!r}; its options: {valid}. "
            f"Received: schedule_kwargs={kwargs!r}"
        )
    options = {**allowed, **kwargs}
    _check(name, options)
    return options


def _check(name: str, o: dict[str, Any]) -> None:
    def bad(key: str, why: str) -> ValueError:
        return ValueError(f"schedule {name!r}: `{key}` {why}. Received: {key}={o[key]!r}")

    if name == "step":
        if o["milestones"] is not None and o["milestone_steps"] is not None:
            raise bad("milestone_steps", "cannot be given together with `milestones`")
        by_epoch = o["milestones"] is not None
        bounds = o["milestones"] if by_epoch else o["milestone_steps"]
        key = "milestones" if by_epoch else "milestone_steps"
        if bounds is None:
            raise ValueError(
                "schedule 'step' needs its boundaries: `milestones=[30, 60]` (epochs) or "
                "`milestone_steps=[32000, 48000]`. Received: schedule_kwargs without either"
            )
        if not isinstance(bounds, (list, tuple)) or not bounds or list(bounds) != sorted(bounds) or (
            any(b <= 0 for b in bounds)
        ):
            raise bad(key, "must be a non-empty increasing list of positive numbers")
        if o["multipliers"] is not None and len(o["multipliers"]) != len(bounds) + 1:
            raise bad("multipliers", f"must have {len(bounds) + 1} values (one per interval)")
        if not 0 < o["factor"]:
            raise bad("factor", "must be > 0")
    if name == "exponential":
        if not 0 < o["rate"]:
            raise bad("rate", "must be > 0")
        if not o["every_epochs"] > 0:
            raise bad("every_epochs", "must be > 0")
    if name == "cosine" and not 0 <= o["alpha"] <= 1:
        raise bad("alpha", "must be in [0, 1]")
    if name == "plateau":
        if not 0 < o["factor"] < 1:
            raise bad("factor", "must be in (0, 1)")
        if not isinstance(o["patience"], int) or o["patience"] < 0:
            raise bad("patience", "must be a non-negative integer")


def make_schedule(
    name: str,
    learning_rate: float,
    *,
    steps_per_epoch: int,
    epochs: int,
    options: dict[str, Any] | None = None,
) -> float | keras.optimizers.schedules.LearningRateSchedule:
    """The learning rate (a float) or Keras schedule for an optimizer.

    Args:
        name: a name of :data:`SCHEDULES`.
        learning_rate: the base rate.
        steps_per_epoch: optimizer steps per epoch.
        epochs: the run's length in epochs.
        options: the schedule's options (see the module's table).

    Returns:
        A float for ``constant`` and ``plateau`` (the rate lives in an optimizer variable that
        :class:`~kerascv_course.training.callbacks.PlateauDecay` changes), else a Keras
        ``LearningRateSchedule``.

    Raises:
        ValueError: for an unknown schedule, an unknown option or a bad value.

    Example:
        >>> s = make_schedule("step", 0.1, steps_per_epoch=100, epochs=90,
        ...                   options={"milestones": [30, 60]})
        >>> float(s(3000)), float(s(6000))
        (0.01, 0.001)
    """
    kwargs = dict(options or {})
    o = schedule_options(name, kwargs)
    if not isinstance(steps_per_epoch, int) or steps_per_epoch < 1:
        raise ValueError(f"`steps_per_epoch` must be a positive integer. Received: steps_per_epoch={steps_per_epoch!r}")
    lr = float(learning_rate)
    total = max(1, steps_per_epoch * epochs)
    import keras

    schedules = keras.optimizers.schedules
    if name in ("constant", "plateau"):
        return lr
    if name == "step":
        if o["milestones"] is not None:
            bounds = [int(round(e * steps_per_epoch)) for e in o["milestones"]]
        else:
            bounds = [int(s) for s in o["milestone_steps"]]
        multipliers = list(o["multipliers"] or [o["factor"] ** i for i in range(len(bounds) + 1)])
        warmup = int(round(o["warmup_epochs"] * steps_per_epoch)) + int(o["warmup_steps"])
        if warmup > 0:
            if warmup >= bounds[0]:
                raise ValueError(
                    f"schedule 'step': the warm-up ({warmup} steps) must end before the first "
                    f"boundary ({bounds[0]} steps). Received: schedule_kwargs={kwargs!r}"
                )
            bounds = [warmup, *bounds]
            multipliers = [o["warmup_factor"], *multipliers]
        # Keras keeps values[i] while step <= boundaries[i]; the optimizer step numbered b (the
        # first after b finished steps) must already use the next value.
        return schedules.PiecewiseConstantDecay([b - 1 for b in bounds], [lr * m for m in multipliers])
    if name == "exponential":
        return schedules.ExponentialDecay(
            lr, decay_steps=max(1, int(round(o["every_epochs"] * steps_per_epoch))),
            decay_rate=o["rate"], staircase=bool(o["staircase"]),
        )
    if name == "cosine":
        warmup = int(round(o["warmup_epochs"] * steps_per_epoch))
        if warmup >= total:
            raise ValueError(
                f"schedule 'cosine': the warm-up ({warmup} steps) must be shorter than the run "
                f"({total} steps). Received: schedule_kwargs={kwargs!r}"
            )
        if warmup:
            return schedules.CosineDecay(
                lr * o["warmup_from"], decay_steps=total - warmup, alpha=o["alpha"],
                warmup_target=lr, warmup_steps=warmup,
            )
        return schedules.CosineDecay(lr, decay_steps=total, alpha=o["alpha"])
    return schedules.PolynomialDecay(lr, decay_steps=total, end_learning_rate=lr * o["end"], power=o["power"])


def learning_rate_at(
    schedule: float | keras.optimizers.schedules.LearningRateSchedule, steps: Any
) -> np.ndarray:
    """The learning rate at each of ``steps`` (optimizer iterations), as a NumPy array."""
    steps = np.atleast_1d(np.asarray(steps))
    if not callable(schedule):
        return np.full(steps.shape, float(schedule))
    return np.array([float(schedule(int(s))) for s in steps])
