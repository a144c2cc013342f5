"""The README's "Quick start for client developers", run as written: every python block after the
section's marker comment, in order and in one namespace (as one would paste them into a Python
prompt), against `make run`'s server on loopback (its demo data); what each prints must be the text
block that follows it. Only the server's address is changed (to this test's port)."""

import contextlib
import io
import os
import re
from pathlib import Path

import pytest
from PIL import Image

pytestmark = pytest.mark.django_db(transaction=True)

README = Path(__file__).resolve().parents[2] / "README.md"
MARKER = "<!-- quick start:"
PORT = 8122  # this suite's range (8120-8129)
BLOCK = re.compile(r"```python\n(.*?)```\n```text\n(.*?)```", re.S)


def quick_start_snippets() -> list[tuple[str, str]]:
    """(code, expected output) of each snippet of the section, in order."""
    text = README.read_text()
    section = text[text.index("## Quick start for client developers") :]
    section = section[section.index(MARKER) : section.index("\n## ", 1)]
    return [(code, expected) for code, expected in BLOCK.findall(section)]


def test_the_readme_has_the_quick_start_right_after_two_commands():
    headings = re.findall(r"^## (.+)$", README.read_text(), re.M)
    assert headings[headings.index("Two commands") + 1] == "Quick start for client developers"
    snippets = quick_start_snippets()
    assert len(snippets) == 6
    steps = "\n".join(code for code, _ in snippets)
    for needed in (
        "register(input",
        "login(input",
        "Authorization",
        "endCursor",
        "likeListing",
        '"map"',
        "graphql-transport-ws",
        "connection_init",
        "ConnectionClosed",
    ):
        assert needed in steps, needed


def test_every_quick_start_snippet_runs_and_prints_what_the_readme_says(processes, tmp_path):
    port, _ = processes.make_run(port=PORT)
    Image.new("RGB", (800, 600), "teal").save(tmp_path / "photo.jpg", "JPEG")  # "any photo you have"
    namespace: dict = {"__name__": "quick_start"}
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        for number, (code, expected) in enumerate(quick_start_snippets(), start=1):
            code = code.replace("127.0.0.1:8000", f"127.0.0.1:{port}")
            printed = io.StringIO()
            with contextlib.redirect_stdout(printed):
                exec(compile(code, f"README quick start snippet {number}", "exec"), namespace)  # noqa: S102
            assert printed.getvalue().strip() == expected.strip(), f"snippet {number}"
    finally:
        os.chdir(cwd)
