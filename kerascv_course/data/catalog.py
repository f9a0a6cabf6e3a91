"""TEMPORARY shim until the data redesign lands (imports the data package)."""

from __future__ import annotations


def dataset_task(name):
    from kerascv_course.data import dataset_task as task

    return task(name)


def check_policy(name, task, options):
    from kerascv_course.data.augment import list_policies

    policies = list_policies(task)
    if name not in policies:
        raise ValueError(
            f"`augment` must be one of {', '.join(policies)} for a {task} dataset. Received: augment={name!r}"
        )
