"""Reading one file into a Document: the reader is picked by content, metadata comes out exact."""

from pathlib import Path

import pytest

from corpus_slices import BRIEFINGS, CORPUS, SEEDS
from indexer.ingest.readers import read_document
from indexer.ingest.turns import split_turns

WHITEHOUSE_SEED = SEEDS / "2021-12-30-background-press-call-biden-putin.whitehouse.md"
PRESIDENCY_SEED = SEEDS / "2022-02-12-background-press-call-biden-putin.presidency-project.txt"
REMARKS = CORPUS / "whitehouse" / "speeches-remarks"
STATEMENTS = CORPUS / "whitehouse" / "statements-releases"


def body_without_front_matter(path: Path) -> str:
    """The transcript lines of a whitehouse.gov file, as a plain-text transcript would hold them."""
    return path.read_text(encoding="utf-8").split("---\n", 2)[2]


def turn_outline(doc) -> list[tuple[str, str, list[str]]]:
    return [(turn.label, turn.role, turn.paragraphs) for turn in split_turns(doc)]


# whitehouse.gov markdown


def test_whitehouse_seed_metadata():
    doc = read_document(WHITEHOUSE_SEED)

    assert doc.doc_id == "2021-12-30-background-press-call-biden-putin"
    assert doc.title == (
        "Background Press Call by a Senior Administration Official on President Biden’s Call "
        "with President Putin of the Russian Federation"
    )
    assert doc.date == "2021-12-30"
    assert doc.source_url == (  # the file says www.whitehouse.gov, where Biden-era pages no longer are
        "https://bidenwhitehouse.archives.gov/briefing-room/press-briefings/2021/12/30/"
        "background-press-call-on-president-bidens-call-with-president-putin-of-the-russian-federation/"
    )
    assert doc.source_name == "whitehouse.gov"
    assert doc.kind == "background call"
    assert doc.president == "Joe Biden"
    assert [(s.name, s.url) for s in doc.sources] == [("whitehouse.gov", doc.source_url)]


def test_whitehouse_body_is_plain_paragraphs():
    """Hard wrapping, NBSP, curly quotes kept as written, markdown escapes undone."""
    doc = read_document(WHITEHOUSE_SEED)

    assert len(doc.paragraphs) == 41
    assert doc.paragraphs[:2] == ["Via Teleconference", "5:41 P.M. EST"]
    assert doc.paragraphs[-1] == "5:53 P.M. EST"
    assert doc.paragraphs[4:6] == [
        "Our speaker today is going to be [senior administration official].",
        "[Senior administration official], over to you.",
    ]
    assert doc.paragraphs[2].startswith(
        "MODERATOR: Thank you. Good evening, everyone. And thanks for joining us. A reminder"
    )
    assert not any("\u00a0" in p or "\\" in p or "\n" in p or "  " in p for p in doc.paragraphs)


def test_escaped_title_and_end_marks_of_a_statement():
    """`\\_` in the YAML title and the closing `\\###` line are markup, not text."""
    doc = read_document(STATEMENTS / "2022-02" / "2022-02-15-statement-from-president-joe-biden-on-sandy-hook-"
                                                  "settlement.md")

    assert doc.title == "Statement from President Joe Biden on Sandy Hook Settlement"
    assert doc.kind == "statement"
    assert len(doc.paragraphs) == 3
    assert doc.paragraphs[-1].endswith("or they will bear the financial cost of their complicity.")


def test_label_after_a_hard_line_break_starts_a_new_paragraph():
    """The page breaks the line after "summer.  " and Psaki answers: no blank line in the source."""
    path = BRIEFINGS / "2022-01" / (
        "2022-01-12-press-briefing-by-press-secretary-jen-psaki-and-national-economic-council-director-"
        "brian-deese-january-12-2022.md"
    )
    raw = path.read_text(encoding="utf-8")
    doc = read_document(path)

    assert "back to the summer.  \nMS. PSAKI:\u00a0 Yeah.  \n" in raw
    index = doc.paragraphs.index("Q Okay. And then the second question goes back to the summer.")
    assert doc.paragraphs[index + 1] == "MS. PSAKI: Yeah."


# American Presidency Project plain text


def test_presidency_project_seed_header():
    doc = read_document(PRESIDENCY_SEED)

    assert doc.doc_id == "2022-02-12-background-press-call-biden-putin"
    assert doc.title == (
        "Background Press Call by a Senior Administration Official on the President's Call "
        "with Russian President Vladimir Putin"
    )
    assert doc.date == "2022-02-12"
    assert doc.source_url is None
    assert doc.source_name == "American Presidency Project"
    assert doc.kind == "background call"
    assert doc.president == "Joe Biden"


def test_presidency_project_header_and_footer_are_not_transcript():
    doc = read_document(PRESIDENCY_SEED)
    text = "\n".join(doc.paragraphs)

    assert len(doc.paragraphs) == 38
    assert doc.paragraphs[:2] == ["Via Teleconference", "12:53 P.M. EST"]
    assert doc.paragraphs[-1] == "1:03 P.M. EST"
    for outside in ("Joe Biden", "February 12, 2022", "The American Presidency Project",
                    "Gerhard Peters", "Filed Under", "Simple Search of Our Archives", doc.title):
        assert outside not in text


# the reader is chosen by content


def test_reader_follows_content_not_file_extension(tmp_path):
    markdown_named_txt = tmp_path / "2021-12-30-background-press-call-biden-putin.txt"
    text_named_md = tmp_path / "2022-02-12-background-press-call-biden-putin.md"
    markdown_named_txt.write_text(WHITEHOUSE_SEED.read_text(encoding="utf-8"), encoding="utf-8")
    text_named_md.write_text(PRESIDENCY_SEED.read_text(encoding="utf-8"), encoding="utf-8")

    assert read_document(markdown_named_txt).source_name == "whitehouse.gov"
    assert read_document(text_named_md).source_name == "American Presidency Project"
    assert read_document(text_named_md).paragraphs == read_document(PRESIDENCY_SEED).paragraphs


def test_plain_text_fallback_takes_date_and_title_from_the_file_name(tmp_path):
    path = tmp_path / "2021-12-30-background-press-call.txt"
    path.write_text(body_without_front_matter(WHITEHOUSE_SEED), encoding="utf-8")

    doc = read_document(path)

    assert (doc.doc_id, doc.title, doc.date) == (
        "2021-12-30-background-press-call", "Background press call", "2021-12-30",
    )
    assert (doc.source_name, doc.source_url, doc.kind, doc.president) == (
        "plain text", None, "background call", "Joe Biden",
    )


def test_plain_text_fallback_reads_the_same_turns_as_markdown(tmp_path):
    path = tmp_path / "remarks-after-air-force-one-arrival.txt"
    markdown = REMARKS / "2022-03" / "2022-03-08-remarks-by-president-biden-after-air-force-one-arrival-3.md"
    path.write_text(body_without_front_matter(markdown), encoding="utf-8")

    doc = read_document(path)

    assert (doc.title, doc.date, doc.president) == ("Remarks after air force one arrival", None, None)
    assert turn_outline(doc) == turn_outline(read_document(markdown))
    assert [turn[:2] for turn in turn_outline(doc)] == [
        ("Q", "reporter"), ("THE PRESIDENT", "official"), ("Q", "reporter"), ("THE PRESIDENT", "official"),
    ]


# kinds


@pytest.mark.parametrize("path, kind", [
    (BRIEFINGS / "2022-06" / "2022-06-14-press-gaggle-by-press-secretary-karine-jean-pierre-en-route-"
     "philadelphia-pa.md", "gaggle"),
    (BRIEFINGS / "2022-02" / "2022-02-27-background-press-call-by-a-senior-administration-official-on-imposing-"
     "additional-severe-costs-on-russia.md", "background call"),
    (BRIEFINGS / "2022-03" / "2022-03-28-on-the-record-press-call-by-omb-director-shalanda-young-and-cea-chair-"
     "cecilia-rouse-on-the-presidents-fy23-budget.md", "press call"),
    (BRIEFINGS / "2022-03" / "2022-03-29-press-briefing-by-director-of-communications-kate-bedingfield.md",
     "press briefing"),
    (REMARKS / "2022-03" / "2022-03-08-remarks-by-president-biden-after-air-force-one-arrival-3.md", "remarks"),
    (STATEMENTS / "2022-02" / "2022-02-21-statement-by-press-secretary-jen-psaki-on-russian-announcement-on-eastern-"
     "ukraine.md", "statement"),
    (STATEMENTS / "2022-02" / "2022-02-12-readout-of-president-bidens-call-with-president-vladimir-putin-of-russia.md",
     "readout"),
])
def test_kind_comes_from_the_title(path, kind):
    assert read_document(path).kind == kind
