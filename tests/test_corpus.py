"""Reading many files: duplicates across sources, bad files, and the `inspect` command."""

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from corpus_slices import BRIEFINGS, CORPUS, REPO, SEED_COPY, SEEDS, UPCOMING_CALL
from indexer.cli import main
from indexer.ingest.corpus import read_corpus
from indexer.records import Source
from indexer.ingest.readers import read_document

WHITEHOUSE_SEED = SEEDS / "2021-12-30-background-press-call-biden-putin.whitehouse.md"
PRESIDENCY_SEED = SEEDS / "2022-02-12-background-press-call-biden-putin.presidency-project.txt"
WHITEHOUSE_SEED_COPY = BRIEFINGS / "2021-12" / (
    "2021-12-30-background-press-call-on-president-bidens-call-with-president-putin-of-the-russian-federation.md"
)
SEED_ID = "2022-02-12-background-press-call-biden-putin"
COPY_ID = SEED_COPY.stem
REPORT_KEYS = {"files", "failed", "documents", "duplicates", "turns", "passages", "qa_pairs",
               "non_official_passages", "speakers"}


def run_inspect(*paths, as_json=True):
    args = ["inspect", *map(str, paths), *(["--json"] if as_json else [])]
    return CliRunner().invoke(main, args)


def report_of(*paths) -> dict:
    result = run_inspect(*paths)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def write_bad_files(folder):
    """Empty, blank, binary, and two lines of the Feb 11, 2022 briefing saved in Windows-1252, not UTF-8."""
    folder.mkdir()
    (folder / "empty.txt").write_bytes(b"")
    (folder / "blank.md").write_bytes(b" \n\n\t\n")
    (folder / "chart.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00")
    text = "MS. PSAKI:  I’m going to let Aamer go.\n\nQ    The President’s departure is at 2:25.\n"
    (folder / "cp1252.txt").write_bytes(text.encode("cp1252"))
    return folder


# duplicates across sources


def test_seed_and_its_whitehouse_copy_become_one_document():
    corpus = read_corpus([PRESIDENCY_SEED, SEED_COPY], progress=False)
    [kept] = corpus.documents

    assert read_document(PRESIDENCY_SEED).title != read_document(SEED_COPY).title
    assert [(d.kept, d.dropped, d.similarity) for d in corpus.duplicates] == [(COPY_ID, [SEED_ID], 0.992)]
    assert kept.doc_id == COPY_ID and kept.source_url == (
        "https://bidenwhitehouse.archives.gov/briefing-room/statements-releases/2022/02/12/"
        "background-press-call-by-a-senior-administration-official-on-the-presidents-call-with-russian-president-"
        "vladimir-putin/"
    )
    assert kept.sources == [
        Source(str(SEED_COPY), "whitehouse.gov", kept.source_url),
        Source(str(PRESIDENCY_SEED), "American Presidency Project", None),
    ]
    assert list(corpus.turns) == [COPY_ID]
    assert {p.doc_id for p in corpus.passages} == {COPY_ID}


def test_copy_in_the_corpus_is_kept_over_the_seed():
    """The two files are identical (title, date and text): the copy is named by its path."""
    corpus = read_corpus([WHITEHOUSE_SEED, WHITEHOUSE_SEED_COPY], progress=False)

    assert [(d.kept, d.dropped, d.similarity) for d in corpus.duplicates] == [
        (WHITEHOUSE_SEED_COPY.stem, [str(WHITEHOUSE_SEED)], 1.0),
    ]
    assert [source.path for source in corpus.documents[0].sources] == [str(WHITEHOUSE_SEED_COPY), str(WHITEHOUSE_SEED)]


def test_calls_with_near_identical_titles_are_not_duplicates():
    """The call of Dec 29 previews the one of Dec 30: the titles differ by one word, the texts entirely."""
    corpus = read_corpus([UPCOMING_CALL, WHITEHOUSE_SEED], progress=False)

    assert read_document(UPCOMING_CALL).title.replace("Upcoming ", "") == read_document(WHITEHOUSE_SEED).title
    assert corpus.duplicates == []
    assert len(corpus.documents) == 2


# inspect --json


def test_inspect_json_on_the_seeds_and_a_copy():
    report = report_of(SEEDS, SEED_COPY)

    assert REPORT_KEYS <= set(report)
    assert (report["files"], report["failed"], report["documents"]) == (3, [], 2)
    assert report["duplicates"] == [{"kept": COPY_ID, "dropped": [SEED_ID], "similarity": 0.992}]
    assert (report["turns"], report["passages"], report["qa_pairs"]) == (23, 16, 7)
    assert report["roles"] == {"official": 11, "reporter": 7, "moderator": 5}
    assert report["non_official_passages"] == 0
    assert report["kinds"] == {"background call": 2}
    assert report["speakers"] == [{"name": "Senior Administration Official", "turns": 11}]


def test_inspect_names_the_officials_of_a_briefing():
    """73 answers follow a question (a greeting such as "Happy Friday." is none); Sullivan's opening, after Psaki
    hands over, inherits the one she answered; replies such as "Yeah." are turns but no passages."""
    report = report_of(BRIEFINGS / "2022-02" / (
        "2022-02-11-press-briefing-by-press-secretary-jen-psaki-and-national-security-advisor-jake-sullivan-"
        "february-11-2022.md"
    ))

    assert report["speakers"] == [{"name": "Jen Psaki", "turns": 50}, {"name": "Jake Sullivan", "turns": 31}]
    assert (report["turns"], report["qa_pairs"], report["passages"]) == (162, 73, 75)


def test_inspect_readable_summary():
    result = run_inspect(SEEDS, SEED_COPY, as_json=False)

    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        "files read         3",
        "failed             0",
        "documents          2  (kinds: background call 2)",
        "duplicates merged  1",
        "speaker turns      23  (official 11, reporter 7, moderator 5)",
        "answer passages    16",
        "question-answer    7",
        "",
        "top official speakers (turns):",
        "       11  Senior Administration Official",
        "",
        "duplicates (kept <- dropped):",
        f"  {COPY_ID} <- {SEED_ID}",
    ]


# bad input


def test_unreadable_files_are_listed_and_the_rest_is_read(tmp_path):
    bad = write_bad_files(tmp_path / "bad")

    report = report_of(bad, PRESIDENCY_SEED)

    assert (report["files"], report["documents"], report["turns"]) == (5, 1, 10)
    assert [(f["path"], f["error"].split(";")[0]) for f in report["failed"]] == [
        (str(bad / "blank.md"), "empty file"),
        (str(bad / "chart.png"), "binary file (contains NUL bytes)"),
        (str(bad / "cp1252.txt"), "not UTF-8 text (bad byte at offset 13)"),
        (str(bad / "empty.txt"), "empty file"),
    ]
    assert all("\n" not in f["error"] for f in report["failed"])


def test_failures_in_the_readable_summary(tmp_path):
    bad = write_bad_files(tmp_path / "bad")

    lines = run_inspect(bad, as_json=False).stdout.splitlines()

    assert lines[:3] == ["files read         4", "failed             4", "documents          0  (kinds: )"]
    assert [line.split(";")[0] for line in lines[-5:]] == [
        "failed:",
        f"  {bad / 'blank.md'}: empty file",
        f"  {bad / 'chart.png'}: binary file (contains NUL bytes)",
        f"  {bad / 'cp1252.txt'}: not UTF-8 text (bad byte at offset 13)",
        f"  {bad / 'empty.txt'}: empty file",
    ]


def test_readme_and_hidden_files_in_a_folder_are_not_inputs(tmp_path):
    folder = tmp_path / "transcripts"
    (folder / ".cache").mkdir(parents=True)
    (folder / "README.md").write_text("# Transcripts\n", encoding="utf-8")
    (folder / ".cache" / "seed.txt").write_bytes(PRESIDENCY_SEED.read_bytes())
    (folder / "seed.txt").write_bytes(PRESIDENCY_SEED.read_bytes())

    report = report_of(folder)

    assert (report["files"], report["failed"], report["documents"]) == (1, [], 1)


@pytest.mark.parametrize("paths", [["no/such/folder"], [str(SEEDS), "no/such/file.md"]])
def test_missing_path_is_one_error_line_and_exit_2(paths):
    result = run_inspect(*paths)

    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"error: {paths[-1]}: no such file or folder; check the path and try again"
    ]


# the whole corpus (slow)


def inspect_in_a_subprocess(*paths) -> dict:
    command = [sys.executable, "-m", "indexer", "inspect", *map(str, paths), "--json"]
    finished = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=True)
    return json.loads(finished.stdout)


@pytest.mark.slow
def test_inspect_the_whole_corpus():
    report = inspect_in_a_subprocess(CORPUS / "whitehouse", SEEDS)
    speakers = {s["name"] for s in report["speakers"]}
    merged = {d["kept"]: d["dropped"] for d in report["duplicates"]}

    assert report["files"] == 10_216
    assert report["failed"] == []
    assert merged[COPY_ID] == [SEED_ID]
    assert merged[WHITEHOUSE_SEED_COPY.stem] == ["2021-12-30-background-press-call-biden-putin"]
    assert report["non_official_passages"] == 0
    assert {"Jen Psaki", "Karine Jean-Pierre"} <= speakers


@pytest.mark.slow
def test_press_briefings_hold_thirty_thousand_question_answer_pairs():
    report = inspect_in_a_subprocess(BRIEFINGS)

    assert report["files"] == 1_154
    assert report["qa_pairs"] >= 30_000
