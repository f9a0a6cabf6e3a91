"""Print (or write into README.md) the table of every registered model; regenerate the catalog.

Both are read from the live registry: ``--write`` rewrites the table between the README's markers
and ``kerascv_course/models/catalog.json`` (the TF-free catalog of names, metadata and builder
arguments), which a test keeps equal to the registry.

Usage:
    python tools/model_table.py            # print the Markdown table
    python tools/model_table.py --write    # update README.md and kerascv_course/models/catalog.json
"""

from __future__ import annotations

import argparse
import os
import re
import sys

START = "<!-- model-table:start -->"
END = "<!-- model-table:end -->"


def markdown_table() -> str:
    """The README's model table as Markdown."""
    from kerascv_course.models.registry import get_spec, list_models

    lines = [
        "| model | task | paper | default input | parameters | keras.applications weights |",
        "|---|---|---|---|---:|---|",
    ]
    for name in list_models():
        spec = get_spec(name)
        paper = spec.paper + (f" ([arXiv:{spec.arxiv}](https://arxiv.org/abs/{spec.arxiv}))" if spec.arxiv else "")
        shape = "x".join(str(v) for v in spec.default_input_shape)
        weights = f"yes ({spec.keras_app})" if spec.keras_app else "no"
        lines.append(f"| `{name}` | {spec.task} | {paper} | {shape} | {spec.params:,} | {weights} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--write", action="store_true",
        help="update README.md in place and regenerate kerascv_course/models/catalog.json",
    )
    args = parser.parse_args()
    table = markdown_table()
    if not args.write:
        print(table)
        return 0
    readme = os.path.join(os.path.dirname(__file__), "..", "README.md")
    with open(readme, encoding="utf-8") as fh:
        text = fh.read()
    pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), re.S)
    if not pattern.search(text):
        print(f"README.md has no {START} ... {END} markers", file=sys.stderr)
        return 1
    text = pattern.sub(lambda _: f"{START}\n{table}\n{END}", text)
    with open(readme, "w", encoding="utf-8") as fh:
        fh.write(text)
    from kerascv_course.models import catalog

    print(catalog.write())
    return 0


if __name__ == "__main__":
    sys.exit(main())
