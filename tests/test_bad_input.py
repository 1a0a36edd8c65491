"""Bad input to the readers: every file reads or is reported with one line of reason; nothing escapes.

`tests/data/nasty/` keeps small hostile files (encodings, YAML bombs, wrong
types, no labels, NUL bytes, deep nesting); the huge ones are generated here;
hypothesis generates the rest from pieces of real transcript syntax.
"""

import resource
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corpus_slices import REPO
from indexer.ingest.corpus import read_corpus

NASTY = REPO / "tests" / "data" / "nasty"

# file -> the reason it fails, or (turns, passages, date) when it reads. Most open with "MS. PSAKI:  Good
# afternoon.", a turn but no passage (indexer/ingest/procedure.py).
EXPECTED = {
    "binary.png": "binary file (contains NUL bytes)",
    "control-characters.md": (3, 1, "2022-03-01"),
    "crlf-line-endings.md": (3, 1, "2022-03-01"),
    "date-huge-number.md": (3, 1, None),
    "date-impossible.md": (3, 1, None),
    "date-wrong-type.md": (3, 1, None),
    "deeply-nested-markdown.md": (4, 1, "2022-03-01"),
    "empty.md": "empty file",
    "front-matter-a-list.md": "malformed front matter: no title",
    "front-matter-python-tag.md": "malformed front matter: could not determine a constructor for the tag "
                                  "'tag:yaml.org,2002:python/object/apply:os.system'",
    "front-matter-unclosed.md": "malformed front matter: no title",
    "hostile-html.md": (3, 1, "2022-03-01"),
    "labels-only.md": (2, 0, "2022-03-01"),
    "latin1.md": "not UTF-8 text (bad byte at offset 99); convert it to UTF-8, e.g. with iconv -f latin1 -t utf-8",
    "no-speaker-labels.md": (1, 1, "2022-03-01"),
    "nul-bytes-late.md": (3, 9, "2022-03-01"),
    "presidency-project-bad-date.txt": "malformed Presidency Project text: bad date line 'Not a date at all'",
    "presidency-project-no-header.txt": "malformed Presidency Project text: no header",
    "rtl-and-emoji.md": (3, 1, "2022-03-01"),
    "title-not-string.md": "malformed front matter: the title is a dict, not text",
    "utf16-bom.md": (3, 1, "2022-03-01"),
    "utf8-bom.md": (3, 1, "2022-03-01"),
    "whitespace-only.md": "empty file",
    "yaml-bomb.md": "malformed front matter: aliases (*name) are not allowed in front matter",
}

TRANSCRIPT_PIECES = [
    "---\n", "title: Press Briefing by Press Secretary Jen Psaki\n", "date: 2022-03-01\n", "date: [1, 2]\n",
    "title: {a: b}\n", "source_url: javascript:alert(1)\n", "a: &x [1]\nb: *x\n", "MS. PSAKI:  ", "Q\u00a0\u00a0\u00a0 ",
    "Q:  ", "THE PRESIDENT:  ", "SENIOR ADMINISTRATION OFFICIAL:  ", "MODERATOR:  ", "END\n",
    "12:52 P.M. EST\n", "(Laughter.)", "\\[senior administration official\\]", "\n\n", "\n", "  \n", "\\_",
    "We will continue to support Ukraine. ", "Is that right? ", "<script>x</script>", "[a](javascript:b)",
    "> ", "# ", "**", "`", "\x00", "\ufeff", "\u202e", "Online by Gerhard Peters and John T. Woolley\n",
    "Filed Under\n", "Joe Biden\n", "February 12, 2022\n",
]


def read_one(tmp_path: Path, name: str, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return read_corpus([path], progress=False)


def assert_read_or_reported(corpus) -> None:
    """The invariant every input must keep."""
    assert corpus.files == 1
    assert len(corpus.failed) + len(corpus.documents) == 1
    for failure in corpus.failed:
        assert failure.error and "\n" not in failure.error
    assert all(p.role == "official" and p.text.strip() for p in corpus.passages)
    assert not any("\x00" in p.text for p in corpus.passages)


def test_the_nasty_folder_holds_what_the_table_expects():
    assert sorted(p.name for p in NASTY.iterdir()) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_nasty_file_reads_or_fails_with_one_line(name):
    corpus = read_corpus([NASTY / name], progress=False)
    expected = EXPECTED[name]

    if isinstance(expected, str):
        assert [f.error for f in corpus.failed] == [expected]
        assert corpus.documents == []
    else:
        turns = sum(len(t) for t in corpus.turns.values())
        assert corpus.failed == []
        assert (turns, len(corpus.passages), corpus.documents[0].date) == expected


def test_the_whole_nasty_folder_reads_in_one_run_and_reports_each_failure():
    corpus = read_corpus([NASTY], progress=False)

    failing = sorted(name for name, expected in EXPECTED.items() if isinstance(expected, str))
    copies = sum(len(d.dropped) for d in corpus.duplicates)  # the same document in other encodings, merged
    assert sorted(Path(f.path).name for f in corpus.failed) == failing
    assert (len(corpus.documents), copies, len(corpus.failed)) == (9, 4, 11)
    assert len(corpus.documents) + copies + len(corpus.failed) == len(EXPECTED)


def test_html_in_a_transcript_is_dropped_as_markup_and_a_javascript_url_is_not_kept():
    corpus = read_corpus([NASTY / "hostile-html.md"], progress=False)

    assert corpus.documents[0].source_url is None
    assert corpus.passages[-1].text.endswith("keep doing so. MS. PSAKI: alert(1) [x](javascript:alert(1)).")


def test_control_and_direction_characters_are_removed():
    control = read_corpus([NASTY / "control-characters.md"], progress=False).passages[-1].text
    rtl = read_corpus([NASTY / "rtl-and-emoji.md"], progress=False).passages[-1].text

    assert control.endswith("keep doing so. MS. PSAKI: Bell escape [31m red [0m form feed.")
    assert rtl.endswith("keep doing so. MS. PSAKI: evil مرحبا שלום 🇺🇦🎙️ 😀.")


def test_a_50_mb_file_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "huge.md"
    with open(path, "wb") as handle:
        handle.truncate(50_000_000)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    corpus = read_corpus([path], progress=False)

    assert [f.error for f in corpus.failed] == [
        "too large for a transcript (50 MB; the limit is 8 MB): split it into documents"
    ]
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 20_000  # KiB: it was never read


HUNDRED_THOUSAND_TURNS = textwrap.dedent("""
    import re, sys
    from pathlib import Path
    from indexer.ingest.corpus import read_corpus

    path = Path(sys.argv[1])
    turns = "".join(f"Q\\u00a0\\u00a0 Question {i}?\\n\\nMS. PSAKI:  Answer {i}. We will see what the Congress does next.\\n\\n" for i in range(50_000))
    path.write_text("---\\ntitle: Press Briefing by Press Secretary Jen Psaki\\ndate: 2022-03-01\\n---\\n\\n" + turns)
    del turns
    corpus = read_corpus([path], progress=False)
    peak_kb = int(re.search(r"VmHWM:\\s+(\\d+) kB", Path("/proc/self/status").read_text())[1])
    print(sum(len(t) for t in corpus.turns.values()), len(corpus.passages), len(corpus.failed), peak_kb // 1024)
""")


def test_100000_turns_read_in_bounded_memory(tmp_path):
    """A 3.5 MB transcript of 100,000 turns: read whole, in a subprocess whose peak memory is measured.

    VmHWM, not ru_maxrss: on Linux a child's ru_maxrss starts from its parent's size at fork."""
    result = subprocess.run([sys.executable, "-c", HUNDRED_THOUSAND_TURNS, str(tmp_path / "long.md")],
                            cwd=REPO, capture_output=True, text=True, timeout=300)
    turns, passages, failed, peak_mb = map(int, result.stdout.split())

    assert (turns, passages, failed) == (100_000, 50_000, 0), result.stderr
    assert peak_mb < 400


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pieces=st.lists(st.sampled_from(TRANSCRIPT_PIECES) | st.text(max_size=40), max_size=60))
def test_generated_transcripts_read_or_fail_cleanly(tmp_path, pieces):
    assert_read_or_reported(read_one(tmp_path, "generated.md", "".join(pieces).encode("utf-8", "surrogatepass")))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=4000))
def test_arbitrary_bytes_read_or_fail_cleanly(tmp_path, data):
    assert_read_or_reported(read_one(tmp_path, "bytes.txt", data))
