"""The docs say what the code does: README's option table is `search --help`, README's Python example runs
on the quick-start index, and docs/index-format.md names every file, table and manifest key a build writes."""

from __future__ import annotations

import contextlib
import io
import json
import re
import shlex
import sqlite3

import pytest
from click.testing import CliRunner

from corpus_slices import REPO
from indexer.cli import main
from indexer.index import layout
from indexer.index.build import build_index
from indexer.index.vectors import EXACT_LIMIT, settings_for

pytest_plugins = ["index_fixtures"]

README = (REPO / "README.md").read_text()
INDEX_FORMAT = (REPO / "docs" / "index-format.md").read_text()


def readme_options() -> set[str]:
    table = README[README.index("| option | meaning |"):].split("\n\n", 1)[0]
    first_cells = [row.split("|")[1] for row in table.splitlines()[2:]]
    return {option for cell in first_cells for option in re.findall(r"`(-[\w-]+)", cell)}


def help_options(command: str) -> set[str]:
    text = CliRunner().invoke(main, [command, "--help"]).output
    return set(re.findall(r"^\s+(-[\w-]+)", text, re.M)) - {"-h", "--help"}


def quick_start_paths() -> list[str]:
    """The paths README's set-up command builds, relative to the repository."""
    setup = README[README.index("## Set up"):]
    command = setup[setup.index("```sh") + 5:setup.index("```", setup.index("```sh") + 5)]
    words = shlex.split(command.split("-m indexer build", 1)[1].split("&&", 1)[0])
    return [str((REPO / word).resolve()) for word in words]


def test_the_readme_option_table_is_the_search_command_s_options():
    assert readme_options() == help_options("search")


@pytest.fixture(scope="module")
def quick_start_index(tmp_path_factory):
    """The index README's set-up command builds, at data/index under a fresh folder."""
    folder = tmp_path_factory.mktemp("quick-start")
    paths = quick_start_paths()
    assert [p.rsplit("/", 3)[-3:] for p in paths] == [["shared", "corpus", "seeds"],
                                                       ["whitehouse", "press-briefings", "2022-03"]]
    build_index(paths, folder / "data" / "index", progress=False)
    return folder


def test_the_readme_python_example_runs_on_the_quick_start_index(quick_start_index, monkeypatch):
    example = README[README.index("```python") + 9:README.index("```", README.index("```python") + 9)]
    monkeypatch.chdir(quick_start_index)
    printed = io.StringIO()

    with contextlib.redirect_stdout(printed):
        exec(compile(example, "README.md", "exec"), {})

    lines = printed.getvalue().splitlines()
    found = [line for line in lines if line.startswith("Jen Psaki 2022-03-")]
    cited = [line for line in lines if line.startswith("Jen Psaki, Press Briefing by Press Secretary Jen Psaki")]
    assert len(found) == len(cited) == 5  # five results, each with its citation (a highlight may span paragraphs)


def test_index_format_names_every_file_table_and_manifest_key_a_build_writes(seeds_dir):
    version = layout.current_version(seeds_dir)
    files = {p.name for p in seeds_dir.iterdir()} | {p.name for p in version.iterdir()} | {"builds"}
    manifest = json.loads((version / layout.MANIFEST).read_text())
    keys = set(manifest) | set(settings_for(EXACT_LIMIT))
    db = sqlite3.connect(version / layout.DATABASE)
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    db.close()
    documented_keys = set(re.findall(r"^\| `(\w+)` \|", INDEX_FORMAT.split("## manifest.json")[1].split("\n## ")[0],
                                     re.M))

    assert not {name for name in files if name not in INDEX_FORMAT}
    assert documented_keys == keys
    assert not {table for table in tables if f"`{table}`" not in INDEX_FORMAT}
