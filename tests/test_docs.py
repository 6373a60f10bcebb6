"""The docs name every public API name and every sub-command, and the examples they include exist."""

from __future__ import annotations

import re
from pathlib import Path

import ansar.create as ar
from ansar.command.main import COMMANDS

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_every_public_name_of_the_runtime_is_documented():
    text = (DOCS / "runtime.rst").read_text()
    missing = [name for name in ar.__all__ if not re.search(rf"\b{re.escape(name)}\b", text)]
    assert missing == []


def test_every_sub_command_is_documented():
    text = (DOCS / "command.rst").read_text()
    missing = [name for name in COMMANDS if f"ansar {name}" not in text]
    assert missing == []


def test_every_included_example_exists():
    for page in DOCS.glob("*.rst"):
        for target in re.findall(r"\.\. literalinclude:: (\S+)", page.read_text()):
            assert (page.parent / target).resolve().is_file(), f"{page.name}: {target}"


def test_every_public_name_resolves():
    for name in ar.__all__:
        assert getattr(ar, name) is not None, name
