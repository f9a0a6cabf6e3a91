"""README.md stays true to the code: its model table is the registry's, its commands exist."""

from __future__ import annotations

import importlib.util
import os
import re

ROOT = os.path.join(os.path.dirname(__file__), "..")


def _readme() -> str:
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as fh:
        return fh.read()


def test_readme_model_table_is_the_registry_table():
    spec = importlib.util.spec_from_file_location("model_table", os.path.join(ROOT, "tools", "model_table.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert f"{module.START}\n{module.markdown_table()}\n{module.END}" in _readme()


def test_quickstart_has_exactly_two_commands_and_ci_runs_the_test_one():
    text = _readme()
    section = text.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"```bash\n(.*?)\n```", section, re.S)
    assert len(commands) == 2
    assert "kerascv-course train" in commands[0]
    with open(os.path.join(ROOT, ".ci", "run"), encoding="utf-8") as fh:
        ci = fh.read()
    assert commands[1].strip() in ci


def test_every_cli_command_in_the_readme_exists():
    from kerascv_course.cli import build_parser

    parser = build_parser()
    known = set(parser._subparsers._group_actions[0].choices)
    used = set(re.findall(r"kerascv-course ([a-z][a-z-]+)", _readme()))
    assert used and used <= known, used - known
