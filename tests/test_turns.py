"""Speaker turns and who the speakers are, on real transcripts whose labels were counted by hand."""

from collections import Counter
from functools import cache
from pathlib import Path

from corpus_slices import BRIEFINGS, CORPUS, SEEDS
from indexer.records import Turn
from indexer.ingest.readers import read_document
from indexer.ingest.speakers import readable
from indexer.ingest.turns import split_turns

WHITEHOUSE_SEED = SEEDS / "2021-12-30-background-press-call-biden-putin.whitehouse.md"
PRESIDENCY_SEED = SEEDS / "2022-02-12-background-press-call-biden-putin.presidency-project.txt"
REMARKS = CORPUS / "whitehouse" / "speeches-remarks"

SANCTIONS_CALL = BRIEFINGS / "2022-02" / (
    "2022-02-27-background-press-call-by-a-senior-administration-official-on-imposing-additional-severe-costs-on-"
    "russia.md"
)
GENEVA_GAGGLE = BRIEFINGS / "2021-06" / (
    "2021-06-15-background-press-gaggle-by-senior-administration-officials-en-route-geneva-switzerland.md"
)
PSAKI_SULLIVAN = BRIEFINGS / "2022-02" / (
    "2022-02-11-press-briefing-by-press-secretary-jen-psaki-and-national-security-advisor-jake-sullivan-"
    "february-11-2022.md"
)
PSAKI_DEESE = BRIEFINGS / "2022-01" / (
    "2022-01-12-press-briefing-by-press-secretary-jen-psaki-and-national-economic-council-director-brian-deese-"
    "january-12-2022.md"
)
JEAN_PIERRE_GAGGLE = BRIEFINGS / "2022-06" / (
    "2022-06-14-press-gaggle-by-press-secretary-karine-jean-pierre-en-route-philadelphia-pa.md"
)
BUDGET_CALL = BRIEFINGS / "2022-03" / (
    "2022-03-28-on-the-record-press-call-by-omb-director-shalanda-young-and-cea-chair-cecilia-rouse-on-the-"
    "presidents-fy23-budget.md"
)
ARRIVAL = REMARKS / "2022-03" / "2022-03-08-remarks-by-president-biden-after-air-force-one-arrival-3.md"
CONGRESS_MEETING = REMARKS / "2022-11" / (
    "2022-11-29-remarks-by-president-biden-before-a-meeting-with-congressional-leadership-to-discuss-legislative-"
    "priorities-through-the-end-of-2022.md"
)

SAO = ("SENIOR ADMINISTRATION OFFICIAL", "Senior Administration Official", "official")
MODERATOR = ("MODERATOR", "Moderator", "moderator")
Q = ("Q", "Reporter", "reporter")


@cache
def turns_of(path: Path) -> tuple[Turn, ...]:
    return tuple(split_turns(read_document(path)))


def who(turns) -> list[tuple[str, str, str]]:
    return [(turn.label, turn.speaker, turn.role) for turn in turns]


def census(path: Path) -> Counter:
    return Counter(who(turns_of(path)))


def all_paragraphs(path: Path) -> list[str]:
    return [paragraph for turn in turns_of(path) for paragraph in turn.paragraphs]


# the two seeds, turn by turn


def test_whitehouse_seed_turns():
    turns = turns_of(WHITEHOUSE_SEED)

    assert who(turns) == [MODERATOR, SAO, MODERATOR, Q, SAO, Q, SAO, Q, SAO, Q, SAO, SAO]
    assert [len(turn.paragraphs) for turn in turns] == [4, 11, 1, 2, 5, 1, 1, 2, 2, 2, 5, 2]
    assert [turn.number for turn in turns] == list(range(12))
    assert {turn.doc_id for turn in turns} == {"2021-12-30-background-press-call-biden-putin"}


def test_presidency_project_seed_turns():
    turns = turns_of(PRESIDENCY_SEED)

    assert who(turns) == [MODERATOR, SAO, MODERATOR, Q, SAO, Q, SAO, Q, SAO, MODERATOR]
    assert [len(turn.paragraphs) for turn in turns] == [3, 15, 1, 1, 3, 2, 3, 2, 3, 2]


def test_question_after_non_breaking_spaces():
    assert "\nQ\u00a0\u00a0\u00a0 Yeah.\u00a0 Hi, thanks so much" in WHITEHOUSE_SEED.read_text(encoding="utf-8")
    question = turns_of(WHITEHOUSE_SEED)[3]

    assert question.label == "Q"
    assert question.paragraphs[0].startswith("Yeah. Hi, thanks so much for doing this. Was there — I was wondering")
    assert question.paragraphs[1].startswith("And then, I guess, the other question I have is: How are you going")


def test_question_with_colon():
    question = turns_of(PRESIDENCY_SEED)[3]

    assert question.label == "Q"
    assert question.text.startswith("Thank you so much for doing the call. Could you talk a little bit about")


def test_preamble_and_time_stamps_are_not_speech():
    paragraphs = all_paragraphs(WHITEHOUSE_SEED) + all_paragraphs(PRESIDENCY_SEED)

    for not_speech in ("Via Teleconference", "5:41 P.M. EST", "5:53 P.M. EST", "12:53 P.M. EST", "1:03 P.M. EST"):
        assert not_speech not in paragraphs


def test_a_label_is_taken_as_written_even_when_repeated():
    """The 2021-12-30 call ends with two SENIOR ADMINISTRATION OFFICIAL turns in a row, as the page has it."""
    closing = turns_of(WHITEHOUSE_SEED)[11]

    assert closing.paragraphs == [
        "Thank you all. That concludes the call. And with that, the embargo is lifted.",
        "A friendly reminder that we are on background, attributed to a “senior administration official.” Thanks.",
    ]


# END, escapes, stage directions


def test_end_line_and_escaped_brackets():
    turns = turns_of(SANCTIONS_CALL)

    assert len(turns) == 20
    assert census(SANCTIONS_CALL) == {SAO: 9, Q: 7, MODERATOR: 4}
    assert turns[0].paragraphs[1] == (
        "For your awareness and not for reporting, the speaker on the call today is [senior administration official]."
    )
    assert turns[-1].paragraphs[-1] == "Thanks, everyone. Have a good night."
    assert "END" not in all_paragraphs(SANCTIONS_CALL)
    assert "(February 26, 2022)" not in all_paragraphs(SANCTIONS_CALL)


def test_lone_laughter_is_not_speech():
    turns = turns_of(GENEVA_GAGGLE)

    assert census(GENEVA_GAGGLE) == {SAO: 42, Q: 39}
    assert [turn.paragraphs for turn in turns[25:28]] == [
        ["Sorry, just to reiterate: No meal? They won’t sit — they won’t have not even tea?"],
        ["Well —"],
        ["Definitely not tea."],
    ]
    assert turns[-1].paragraphs == ["All right. Thank you, guys."]


def test_laughter_inside_a_paragraph_stays_with_the_words():
    turns = turns_of(CONGRESS_MEETING)

    assert who(turns) == [("THE PRESIDENT", "Joe Biden", "official"), Q, ("THE PRESIDENT", "Joe Biden", "official")]
    assert turns[0].paragraphs[3].endswith("and everyone is going to agree on everything. (Laughter.)")
    assert turns[2].paragraphs == ["I’m confident (inaudible). (Cross-talk.) I’m confident."]
    assert "10:40 A.M. EST" not in all_paragraphs(CONGRESS_MEETING)


def test_indented_labels_and_end():
    turns = turns_of(ARRIVAL)

    assert [(turn.label, turn.speaker, turn.paragraphs) for turn in turns] == [
        ("Q", "Reporter", ["Mr. President, do you have a message for the American people on gas prices?"]),
        ("THE PRESIDENT", "Joe Biden", ["They’re going to go up."]),
        ("Q", "Reporter", ["What can you do about it?"]),
        ("THE PRESIDENT", "Joe Biden", ["Can’t do much right now. Russia is responsible."]),
    ]


# several officials, and their names


def test_press_secretary_with_a_guest():
    turns = turns_of(PSAKI_SULLIVAN)
    psaki = ("MS. PSAKI", "Jen Psaki", "official")
    sullivan = ("MR. SULLIVAN", "Jake Sullivan", "official")

    assert len(turns) == 162
    assert census(PSAKI_SULLIVAN) == {Q: 81, psaki: 50, sullivan: 31}
    assert who(turns[:5]) == [psaki, Q, psaki, sullivan, Q]
    assert turns[3].paragraphs[0].startswith("Good afternoon. Thanks, everybody, for giving me the opportunity")
    assert turns[-1].paragraphs[-1] == "Thanks, everyone."


def test_names_from_a_title_in_title_case():
    """"Press Briefing By Press Secretary Jen Psaki And ... Director Brian Deese": capitalised "By"/"And"."""
    assert census(PSAKI_DEESE) == {
        Q: 54,
        ("MS. PSAKI", "Jen Psaki", "official"): 47,
        ("MR. DEESE", "Brian Deese", "official"): 19,
    }


def test_hyphenated_surname():
    assert census(JEAN_PIERRE_GAGGLE) == {("MS. JEAN-PIERRE", "Karine Jean-Pierre", "official"): 11, Q: 10}


def test_office_labels_and_a_label_no_document_names():
    turns = turns_of(BUDGET_CALL)

    assert census(BUDGET_CALL) == {
        Q: 6,
        ("CHAIR ROUSE", "Cecilia Rouse", "official"): 6,
        ("DIRECTOR YOUNG", "Shalanda Young", "official"): 4,
        ("MR. FRIEDLANDER", "Mr. Friedlander", "official"): 4,
    }
    assert turns[1].paragraphs[0].startswith("Thank you, Rob. Thank you all for joining.")


def test_the_president_needs_a_date(tmp_path):
    """An undated plain-text copy says nowhere who THE PRESIDENT is: the label stays readable."""
    undated = tmp_path / "remarks-after-air-force-one-arrival.txt"
    undated.write_text(ARRIVAL.read_text(encoding="utf-8").split("---\n", 2)[2], encoding="utf-8")

    speakers = [turn.speaker for turn in split_turns(read_document(undated))]

    assert speakers == ["Reporter", "The President", "Reporter", "The President"]


def test_readable_case_of_labels():
    assert readable("MS. PSAKI") == "Ms. Psaki"
    assert readable("MR. FRIEDLANDER") == "Mr. Friedlander"
    assert readable("SENIOR ADMINISTRATION OFFICIAL") == "Senior Administration Official"
    assert readable("MS. JEAN-PIERRE") == "Ms. Jean-Pierre"
