"""Every Python and shell example of README.md and docs/*.md runs, so the docs cannot drift.

Examples are found automatically: each fenced block marked ``python`` is executed, and each
shell-like block (no language, ``bash``/``sh``/``console``) is split into commands; blocks with no
command (diagrams, layouts) are not examples. Commands run in one process, in document order, in a
scratch folder (so ``runs/lenet5-digits`` of the Quickstart is there for the later ``evaluate`` and
``inspect``), at small settings (:func:`shrink`: one short epoch, few trials, few images, no
timing in ``compare``; a recipe script built on ``cli.script.main`` with ``--print-recipe``, which
parses its command line and checks the resolved recipe without training — tests/test_recipes.py
trains the recipes' ``--smoke`` runs and tests/test_explain.py builds every recipe's model and
optimizer — and any other script with ``--smoke``). What cannot run here is listed in :data:`SKIP` with its reason;
inputs an example takes for granted are made by :data:`SETUP`. Comments are checked where they
state a fact: ``print(x)  # value`` must print that value, ``name = ...  # 1,234 parameters``
must count that many, and a ``.png`` named in a command's comment must have been written.
"""

from __future__ import annotations

import ast
import contextlib
import glob
import io
import os
import re
import runpy
import shlex
import shutil
import sys
import time
from dataclasses import dataclass, field

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCS = ["README.md", *sorted(os.path.relpath(p, ROOT) for p in glob.glob(os.path.join(ROOT, "docs", "*.md")))]
SHELL_LANGS = {"", "bash", "sh", "shell", "console"}
COMMAND_WORDS = ("kerascv-course", "python", "python3", "pip", "pytest", ".")

#: Commands that cannot run here, by a substring of the command, with the reason.
SKIP = {
    "python3 -m venv": "creates a virtual environment (the tests already run in one)",
    ". .venv/bin/activate": "activates the virtual environment",
    "pip install": "installs packages from the network",
    "pytest -n auto": "the test suite itself",
    "KERASTUNER_ORACLE_IP": "distributed search: needs a chief and workers on a network",
    "TF_CONFIG=": "multi-worker training: needs a cluster",
    "runs/alexnet-imagenet2012": "needs an ImageNet run (ILSVRC-2012 is not redistributable)",
    "--weights imagenet": "fetches keras.applications' ImageNet weights from the network",
    "folder:/path/to/": "a placeholder for the reader's own folder of images",
}
#: Python lines that cannot run here (a substring), with the reason.
SKIP_LINES = {
    "/path/to/": "a placeholder for the reader's own weights file",
}


def _copy_quickstart_run(name: str) -> None:
    shutil.copytree("runs/lenet5-digits", name)


def _photo(name: str) -> None:
    import numpy as np
    from PIL import Image

    Image.fromarray(np.random.default_rng(0).integers(0, 255, (48, 48, 3), dtype=np.uint8)).save(name)


#: Inputs an example takes for granted: made before the first command naming them.
SETUP = {
    "runs/mobilenet-shapes": lambda name: _cli(["train", "mobilenet", "--dataset", "shapes", "--epochs", "1",
                                               "--steps-per-epoch", "2", "--output", name]),
    "runs/a": _copy_quickstart_run,
    "runs/b": _copy_quickstart_run,
    "runs/c": _copy_quickstart_run,
    "photo.jpg": _photo,
    "cat.jpg": _photo,
}


@dataclass
class Example:
    file: str
    line: int
    lang: str
    code: str
    commands: list[tuple[int, str, str]] = field(default_factory=list)  # (line, command, comment)

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


def _blocks(path: str):
    with open(os.path.join(ROOT, path), encoding="utf-8") as fh:
        text = fh.read()
    for m in re.finditer(r"^```([\w-]*)[ \t]*\n(.*?)^```", text, re.S | re.M):
        yield text[: m.start()].count("\n") + 2, m.group(1).lower(), m.group(2)


def _split_comment(line: str) -> tuple[str, str]:
    """``(code, comment)``: the comment starts at a ``#`` after a blank, outside quotes."""
    quote = None
    for i, ch in enumerate(line):
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i], line[i + 1:].strip()
    return line, ""


def _commands(first_line: int, code: str) -> list[tuple[int, str, str]]:
    """``(line, command, comment)`` of a shell block: continuations joined, ``&&`` split."""
    out, pending, start = [], "", first_line
    for offset, raw in enumerate(code.splitlines()):
        if not pending:
            start = first_line + offset
        if raw.rstrip().endswith("\\"):
            pending += raw.rstrip()[:-1] + " "
            continue
        line, pending = pending + raw, ""
        text, comment = _split_comment(line)
        command: list[str] = []
        for token in [*shlex.split(text), "&&"]:
            if token == "&&":
                if command:
                    out.append((start, shlex.join(command), comment))
                command = []
            else:
                command.append(token)
    return out


def collect() -> list[Example]:
    examples = []
    for path in DOCS:
        for line, lang, code in _blocks(path):
            if lang == "python":
                examples.append(Example(path, line, lang, code))
            elif lang in SHELL_LANGS:
                try:
                    commands = _commands(line, code)
                except ValueError:  # unbalanced quotes: prose or a diagram, not a command
                    continue
                words = [shlex.split(c)[0] for _, c, _ in commands]
                if commands and all(w.startswith(COMMAND_WORDS) or "=" in w for w in words):
                    examples.append(Example(path, line, lang, code, commands))
    return examples


EXAMPLES = collect()


def _flag(args: list[str], name: str, value: str, *, only_lower: bool = False) -> list[str]:
    """``args`` with ``name value`` set (replaced, or appended), or kept when already lower."""
    if name in args:
        i = args.index(name)
        if not only_lower or float(args[i + 1]) > float(value):
            args[i + 1] = value
        return args
    return [*args, name, value]


def shrink(args: list[str]) -> list[str]:
    """The small settings a command runs at here: one short epoch, few trials, few images."""
    args = list(args)
    command = args[0] if args else ""
    if command in ("train", "tune"):
        args = _flag(args, "--epochs", "1")
        args = _flag(args, "--steps-per-epoch", "2")
    if command == "tune":
        args = _flag(args, "--max-trials", "2", only_lower=True)
    if command == "evaluate":
        args = _flag(args, "--max-examples", "64")
    if command == "compare" and "--no-timing" not in args:
        args.append("--no-timing")  # building the models is the example; timing them is ~30 s more
    if command == "export":
        args = _flag(args, "--eval-samples", "32")
        args = _flag(args, "--calibration-samples", "16")
        args = _flag(args, "--latency-runs", "0")
    return args


def _cli(args: list[str]) -> str:
    from kerascv_course.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(args)
    assert code == 0, f"kerascv-course {shlex.join(args)} exited {code}:\n{err.getvalue()}\n{out.getvalue()}"
    return out.getvalue()


def _script(args: list[str], *, train: bool = False) -> str:
    path = os.path.join(ROOT, args[0])
    argv = [path, *args[1:]]
    with open(path, encoding="utf-8") as fh:
        recipe_script = "from kerascv_course.cli.script import main" in fh.read()
    if recipe_script and not train and not {"--print-recipe", "--explain"} & set(argv):
        argv.append("--print-recipe")  # parsed and checked; trained by tests/test_recipes.py
    elif not {"--smoke", "--print-recipe", "--explain"} & set(argv):
        argv.append("--smoke")  # the same code path on embedded data
    out = io.StringIO()
    saved = sys.argv
    sys.argv = argv
    try:
        with contextlib.redirect_stdout(out):
            runpy.run_path(path, run_name="__main__")
    except SystemExit as stop:
        assert stop.code in (0, None), f"{shlex.join(argv)} exited {stop.code}:\n{out.getvalue()}"
    finally:
        sys.argv = saved
    return out.getvalue()


def _skip_reason(command: str) -> str | None:
    return next((why for key, why in SKIP.items() if key in command), None)


def _prepare(args: list[str]) -> None:
    for arg in args:
        for name, make in SETUP.items():
            if arg.rstrip("/") == name and not os.path.exists(name):
                make(name)


def run_command(command: str, comment: str = "") -> str:
    """Run one documented command (at :func:`shrink`'s settings); its standard output. A recipe
    script whose comment promises a picture trains its ``--smoke`` run, which draws it."""
    words = shlex.split(command)
    _prepare(words)
    if words[0] == "kerascv-course":
        return _cli(shrink(words[1:]))
    if words[0] in ("python", "python3") and words[1:2] and words[1].startswith("recipes/"):
        return _script(words[1:], train=".png" in comment)
    raise AssertionError(f"Don't know how to run {command!r}: run it here, or add it to SKIP with a reason")


def _check_comment(command: str, comment: str, output: str) -> None:
    for png in re.findall(r"[\w-]+\.png", comment):
        written = glob.glob(f"**/{png}", recursive=True) + glob.glob(png)
        assert written, f"{command!r} says it writes {png}, but no {png} was written"
    for name in re.findall(r"\b[a-z]+\d+_[a-z]+\d*\b", comment):  # layer names such as block5_conv3
        assert name in output, f"{command!r}: its comment names {name}, which its output does not show"


def _python_lines(code: str) -> tuple[str, list[str]]:
    kept, skipped = [], []
    for line in code.splitlines():
        why = next((w for k, w in SKIP_LINES.items() if k in line), None)
        if why:
            skipped.append(f"{line.strip()}  ({why})")
        else:
            kept.append(line)
    return "\n".join(kept), skipped


def _check_python_comments(code: str, namespace: dict) -> None:
    for line in code.splitlines():
        printed = re.match(r"^print\((.*)\)\s+#\s*(.+)$", line.strip())
        if printed:
            try:
                expected = ast.literal_eval(printed.group(2).strip())
            except (ValueError, SyntaxError):
                expected = None
            if expected is not None:
                assert eval(printed.group(1), namespace) == expected, line  # noqa: S307 - the docs' own code
        counted = re.match(r"^(\w+)\s*=.*#.*?(\d{1,3}(?:,\d{3})+) parameters", line.strip())
        if counted:
            model = namespace[counted.group(1)]
            assert model.count_params() == int(counted.group(2).replace(",", "")), line


def test_examples_are_found_in_every_document():
    files = {e.file for e in EXAMPLES}
    assert "README.md" in files and any(f.startswith("docs") for f in files), files
    assert any(e.lang == "python" for e in EXAMPLES) and any(e.commands for e in EXAMPLES)
    assert sum(len(e.commands) for e in EXAMPLES) >= 10


def test_shrink_and_parse():
    assert shrink(["tune", "lenet5", "--max-trials", "8", "--epochs", "3"]) == [
        "tune", "lenet5", "--max-trials", "2", "--epochs", "1", "--steps-per-epoch", "2"]
    assert _commands(1, "a=1 kerascv-course list 'x *'   # a comment\nfoo && \\\n  kerascv-course b\n") == [
        (1, "a=1 kerascv-course list 'x *'", "a comment"), (2, "foo", ""), (2, "kerascv-course b", "")]


@pytest.mark.slow
@pytest.mark.parametrize("example", [e for e in EXAMPLES if e.lang == "python"], ids=lambda e: e.where)
def test_python_example_runs(example):
    code, skipped = _python_lines(example.code)
    namespace: dict = {"__name__": "__docs__"}
    with contextlib.redirect_stdout(io.StringIO()):
        exec(compile(code, example.where, "exec"), namespace)  # noqa: S102 - the docs' own code
    _check_python_comments(code, namespace)


@pytest.mark.slow
def test_shell_examples_run_in_order(tmp_path, monkeypatch):
    """One process, document order, one scratch folder: later examples use earlier runs."""
    monkeypatch.chdir(tmp_path)
    failures, ran, skipped = [], [], []
    for example in (e for e in EXAMPLES if e.commands):
        for line, command, comment in example.commands:
            where = f"{example.file}:{line}"
            why = _skip_reason(command)
            if why:
                skipped.append(f"{where} {command} ({why})")
                continue
            try:
                cpu = time.process_time()
                output = run_command(command, comment)
                _check_comment(command, comment, output)
                ran.append(f"{time.process_time() - cpu:6.1f} s CPU  {where} {command}")
            except Exception as err:  # report every failing example, not just the first
                failures.append(f"{where}: {command}\n    {type(err).__name__}: {err}")
    print("\n".join(["", *ran, *(f"skipped {s}" for s in skipped)]))  # shown with pytest -s
    assert not failures, "\n".join(failures)
    assert ran
