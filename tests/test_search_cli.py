"""`python -m indexer build|search|stats` through click's CliRunner: output formats and errors."""

import csv
import io
import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from corpus_slices import SEED_FILES
from indexer.cli import main
from indexer.embedding.embedder import DEFAULT_MODEL

pytest_plugins = ["index_fixtures"]

RESULT_KEYS = {
    "rank", "score", "text", "highlight", "speaker", "role", "question", "title", "date", "kind",
    "source_url", "doc_id", "passage_id",
}


def run(*args, env=None):
    return CliRunner().invoke(main, [str(a) for a in args], env=env)


def search(index_dir, *args):
    return run("search", *args, "--index", index_dir)


def assert_fails_clearly(result, *fragments):
    """Exit code 2 and one line saying what is wrong (after any progress bars), no traceback."""
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]

    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert len(errors) == 1 and result.stderr.endswith(errors[0] + "\n"), result.stderr
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in errors[0]


# build and stats


def test_build_then_search_then_stats(tmp_path):
    index_dir = tmp_path / "index"

    built = run("build", *SEED_FILES, "--index", index_dir)
    found = search(index_dir, "nothing about you without you", "-k", "1", "--json")
    stats = run("stats", "--index", index_dir)

    assert built.exit_code == 0, built.output
    assert built.stdout.splitlines()[:3] == [
        f"index {index_dir}: 2 documents, 16 passages (model {DEFAULT_MODEL})",
        "documents: 2 added, 0 kept, 0 removed",
        "passages and prompts: 24 embedded, 0 reused from the previous version",
    ]
    assert json.loads(found.stdout)["results"][0]["passage_id"] == "2021-12-30-background-press-call-biden-putin#t1p5-8"
    assert stats.exit_code == 0
    assert "documents   2\npassages    16\n" in stats.stdout
    assert "dates       2021-12-30 .. 2022-02-12" in stats.stdout
    assert f"model       {DEFAULT_MODEL} (384 dimensions)" in stats.stdout


def test_stats_json(slice_dir):
    result = run("stats", "--index", slice_dir, "--json")
    info = json.loads(result.stdout)

    assert (info["documents"], info["passages"], info["speakers"]) == (30, 769, 16)
    assert info["top_speakers"][0] == {"name": "Senior Administration Official", "passages": 351}
    assert info["date_range"] == ["2021-12-30", "2022-03-31"]
    assert info["model"] == DEFAULT_MODEL and info["size_bytes"] > 0


def test_the_index_comes_from_podium_index_when_not_given(slice_dir):
    result = run("search", "air defense for Ukraine", "-k", "2", "--json", env={"PODIUM_INDEX": str(slice_dir)})

    assert result.exit_code == 0 and len(json.loads(result.stdout)["results"]) == 2


# search output


POLISH_JETS = "Would Washington object if Warsaw handed its fighter aircraft to Kyiv?"


def test_json_results_carry_every_field(slice_dir):
    result = search(slice_dir, POLISH_JETS, "--json", "-k", "3")
    payload = json.loads(result.stdout)

    assert result.exit_code == 0
    assert payload["query"] == POLISH_JETS
    assert [r["rank"] for r in payload["results"]] == [1, 2, 3]
    assert all(set(r) == RESULT_KEYS for r in payload["results"])
    top = payload["results"][0]
    assert top["passage_id"] == "2022-03-07-press-briefing-by-press-secretary-jen-psaki-march-7th-2022#t46p0-3"
    assert (top["speaker"], top["role"], top["date"]) == ("Jen Psaki", "official", "2022-03-07")
    assert top["kind"] == "press briefing"
    assert top["title"] == "Press Briefing by Press Secretary Jen Psaki, March 7th, 2022"
    assert top["source_url"].endswith("/2022/03/07/press-briefing-by-press-secretary-jen-psaki-march-7th-2022/")
    assert top["highlight"] in top["text"] and "Zelenskyy" in top["question"]


def test_csv_has_a_header_and_one_row_per_result(slice_dir):
    result = search(slice_dir, "gas prices", "--csv", "-k", "4")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))

    assert result.exit_code == 0
    assert len(rows) == 4 and set(rows[0]) == RESULT_KEYS
    assert [row["rank"] for row in rows] == ["1", "2", "3", "4"]


def test_readable_output_names_speaker_date_and_source(slice_dir):
    result = search(slice_dir, POLISH_JETS, "-k", "1")

    assert result.stdout.startswith("1. Jen Psaki (official), 2022-03-07 - Press Briefing by Press Secretary Jen Psaki")
    assert "https://" in result.stdout


def test_batch_queries_print_one_json_line_per_question(slice_dir, tmp_path):
    questions = tmp_path / "questions.txt"
    questions.write_text("gas prices\n\nwhat about NOT\nWill there be a digital dollar?\n")

    result = search(slice_dir, "--queries", questions, "-k", "2")
    lines = [json.loads(line) for line in result.stdout.splitlines()]

    assert result.exit_code == 0
    assert [line["query"] for line in lines] == ["gas prices", "what about NOT", "Will there be a digital dollar?"]
    assert all(set(line) == {"query", "no_close_match", "results"} and len(line["results"]) == 2 for line in lines)
    assert [line["no_close_match"] for line in lines] == [False, True, False]  # "what about NOT" asks nothing
    assert all(set(r) == RESULT_KEYS for line in lines for r in line["results"])


def results_of(result) -> list[dict]:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["results"]


def test_filters_on_the_command_line(slice_dir):
    results = results_of(search(
        slice_dir, "sanctions on Russia", "--json", "-k", "6", "--since", "2022-02-20", "--until", "2022-03-10",
        "--speaker", "Senior Administration Official", "--role", "official",
        "--kind", "background call", "--kind", "press call",
    ))

    assert len(results) == 6
    assert all("2022-02-20" <= r["date"] <= "2022-03-10" for r in results)
    assert {r["speaker"] for r in results} == {"Senior Administration Official"}
    assert {r["kind"] for r in results} <= {"background call", "press call"}


def test_speaker_is_repeatable(slice_dir):
    results = results_of(search(
        slice_dir, "Ukraine", "--json", "-k", "20", "--per-doc", "0", "--speaker", "Psaki", "--speaker", "Bedingfield",
    ))

    assert {r["speaker"] for r in results} == {"Jen Psaki", "Kate Bedingfield"}


@pytest.mark.parametrize("per_doc, most", [("2", 2), ("1", 1), ("4", 4)])
def test_per_doc_caps_passages_from_one_document(slice_dir, per_doc, most):
    options = ["--per-doc", per_doc] if per_doc else []
    results = results_of(search(slice_dir, "humanitarian aid and the central bank of Afghanistan", "--json", *options))
    per_document = {}
    for r in results:
        per_document[r["doc_id"]] = per_document.get(r["doc_id"], 0) + 1

    assert len(results) == 10 and max(per_document.values()) == most


@pytest.mark.parametrize("mode", ["dense", "keyword", "hybrid"])
def test_every_mode(slice_dir, mode):
    results = results_of(search(slice_dir, "Strategic Petroleum Reserve", "--json", "--mode", mode, "-k", "3"))

    assert len(results) == 3


@pytest.mark.parametrize("question", ['what about NOT', '"unbalanced', "NEAR(", "a:b", "star*"])
def test_fts_syntax_in_a_question_just_works(slice_dir, question):
    results = results_of(search(slice_dir, question, "--json", "-k", "3"))

    assert len(results) == 3


# errors: exit 2, one line, no traceback


def test_no_index_yet_says_how_to_build_one(tmp_path):
    assert_fails_clearly(search(tmp_path / "nowhere", "oil"), "no index at", "python -m indexer build")
    assert_fails_clearly(run("stats", "--index", tmp_path / "nowhere"), "python -m indexer build")


def test_another_model_than_the_index_was_built_with(slice_dir):
    assert_fails_clearly(
        search(slice_dir, "oil", "--model", "some/other"),
        f"built with model '{DEFAULT_MODEL}', not 'some/other'", "--model some/other",
    )


def test_another_format_version(slice_copy):
    manifest = slice_copy / "current" / "manifest.json"
    manifest.write_text(json.dumps(json.loads(manifest.read_text()) | {"format_version": 1}))

    assert_fails_clearly(search(slice_copy, "oil"), "format version 1", "reads version 2", "python -m indexer build")


@pytest.mark.parametrize("question", ["", "   ", "?!"])
def test_an_empty_query(slice_dir, question):
    assert_fails_clearly(search(slice_dir, question))


@pytest.mark.parametrize("option, value, message", [
    ("--since", "2022-13", "--since '2022-13' is not a date"),
    ("--until", "last tuesday-ish", "is not a date"),
    ("--since", "2022-02-30", "is not a date"),
])
def test_a_bad_date(slice_dir, option, value, message):
    assert_fails_clearly(search(slice_dir, "oil", option, value), message, "YYYY-MM-DD")


def test_an_unknown_speaker_gets_suggestions(slice_dir):
    assert_fails_clearly(search(slice_dir, "oil", "--speaker", "Psakki"), "did you mean Jen Psaki")


def test_an_unknown_kind_lists_the_known_ones(slice_dir):
    assert_fails_clearly(search(slice_dir, "oil", "--kind", "speech"), "this index has: background call")


def version_file(index_dir: Path, name: str) -> Path:
    return (index_dir / "current").resolve() / name


@pytest.mark.parametrize("name", ["podium.sqlite", "vectors.faiss"])
@pytest.mark.parametrize("keep", [0, 0.5])
def test_a_truncated_index_file(slice_copy, name, keep):
    path = version_file(slice_copy, name)
    size = path.stat().st_size
    with open(path, "r+b") as handle:
        handle.truncate(int(size * keep))

    assert_fails_clearly(search(slice_copy, "oil"), name, "rebuild it with: python -m indexer build")


@pytest.mark.parametrize("name", ["manifest.json", "podium.sqlite", "vectors.faiss"])
def test_a_missing_index_file(slice_copy, name):
    version_file(slice_copy, name).unlink()

    assert_fails_clearly(search(slice_copy, "oil"), f"{name} is missing", "rebuild it with")


def test_an_unreadable_manifest(slice_copy):
    version_file(slice_copy, "manifest.json").write_text("{not json")

    assert_fails_clearly(search(slice_copy, "oil"), "manifest.json is unreadable")


def test_a_damaged_page_met_during_a_search(slice_copy):
    """Damage the open check does not read (the documents table) surfaces mid-search, still as one line."""
    path = version_file(slice_copy, "podium.sqlite")
    db = sqlite3.connect(path)
    page_size = db.execute("PRAGMA page_size").fetchone()[0]
    root = db.execute("SELECT rootpage FROM sqlite_master WHERE name = 'documents'").fetchone()[0]
    db.close()
    with open(path, "r+b") as handle:
        handle.seek((root - 1) * page_size)
        handle.write(b"\xff" * page_size)

    assert_fails_clearly(search(slice_copy, "oil"), "podium.sqlite is damaged", "rebuild it with")


def test_a_build_of_nothing(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()

    assert_fails_clearly(run("build", empty, "--index", tmp_path / "index"), "no transcript passages found")
    assert_fails_clearly(run("build", tmp_path / "missing", "--index", tmp_path / "index"), "no such file or folder")


def test_search_needs_a_question_or_a_file(slice_dir, tmp_path):
    questions = tmp_path / "q.txt"
    questions.write_text("oil\n")

    assert_fails_clearly(search(slice_dir), "give one question, or --queries FILE")
    assert_fails_clearly(search(slice_dir, "oil", "--queries", questions), "give one question, or --queries FILE")
