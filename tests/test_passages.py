"""Answer passages: officials' words only, ~200 words at most, cut between paragraphs or sentences."""

import re
from functools import cache
from pathlib import Path

import pytest

from corpus_slices import BRIEFINGS, CORPUS, SEEDS
from indexer.records import Passage, Turn
from indexer.ingest.passages import MAX_WORDS, make_passages, syntok_sentences
from indexer.ingest.readers import read_document
from indexer.ingest.turns import split_turns

WHITEHOUSE_SEED = SEEDS / "2021-12-30-background-press-call-biden-putin.whitehouse.md"
PRESIDENCY_SEED = SEEDS / "2022-02-12-background-press-call-biden-putin.presidency-project.txt"
STATEMENTS = CORPUS / "whitehouse" / "statements-releases" / "2022-02"

PSAKI_SULLIVAN = BRIEFINGS / "2022-02" / (
    "2022-02-11-press-briefing-by-press-secretary-jen-psaki-and-national-security-advisor-jake-sullivan-"
    "february-11-2022.md"
)
BUDGET_CALL = BRIEFINGS / "2022-03" / (
    "2022-03-28-on-the-record-press-call-by-omb-director-shalanda-young-and-cea-chair-cecilia-rouse-on-the-"
    "presidents-fy23-budget.md"
)
KYIV_CALL = BRIEFINGS / "2023-02" / "2023-02-21-on-the-record-press-call-by-national-security-advisor-jake-sullivan.md"
SANDY_HOOK = STATEMENTS / "2022-02-15-statement-from-president-joe-biden-on-sandy-hook-settlement.md"
FAUCI_FAREWELL = BRIEFINGS / "2022-11" / (
    "2022-11-22-press-briefing-by-press-secretary-karine-jean-pierre-covid-19-response-coordinator-dr-ashish-jha-and-"
    "chief-medial-advisor-dr-anthony-fauci.md"
)
AFRICA_SUMMIT_CALL = BRIEFINGS / "2022-12" / "2022-12-08-background-press-call-on-the-u-s-africa-leaders-summit.md"
NAP_BRIEFING = BRIEFINGS / "2024-08" / "2024-08-07-press-briefing-by-press-secretary-karine-jean-pierre-66.md"
PSAKI_STATEMENT = STATEMENTS / (
    "2022-02-21-statement-by-press-secretary-jen-psaki-on-russian-announcement-on-eastern-ukraine.md"
)
PUTIN_READOUT = STATEMENTS / "2022-02-12-readout-of-president-bidens-call-with-president-vladimir-putin-of-russia.md"
JOINT_STATEMENT = STATEMENTS / (
    "2022-02-23-joint-statement-by-president-joseph-r-biden-jr-and-prime-minister-justin-trudeau-on-the-one-year-"
    "anniversary-of-the-roadmap-for-a-renewed-u-s-canada-partnership.md"
)

SAMPLES = [WHITEHOUSE_SEED, PRESIDENCY_SEED, PSAKI_SULLIVAN, BUDGET_CALL, SANDY_HOOK, JOINT_STATEMENT]
SENTENCE_END = re.compile(r"[.?!…][\"”’)\]]*$")
# A short last piece may join the passage before it: _TAIL_SLACK in passages.py.
MOST_WORDS = int(MAX_WORDS * 1.15)


@cache
def turns_of(path: Path) -> tuple[Turn, ...]:
    return tuple(split_turns(read_document(path)))


@cache
def passages_of(path: Path) -> tuple[Passage, ...]:
    return tuple(make_passages(list(turns_of(path))))


def outline(passages) -> list[tuple[str, int, str]]:
    """(passage id after the doc id, words, first five words)."""
    return [(p.passage_id.split("#")[1], p.word_count, " ".join(p.text.split()[:5])) for p in passages]


# the seeds, passage by passage


def test_whitehouse_seed_passages():
    assert outline(passages_of(WHITEHOUSE_SEED)) == [
        ("t1p0-2", 101, "Thanks very much. And thanks,"),
        ("t1p3-4", 160, "President Biden laid out two"),
        ("t1p5-8", 198, "President Biden was very clear"),
        ("t1p9-10", 128, "President Biden has spoken with"),
        ("t4p0-2", 170, "Thanks, Paul. So, I agree"),
        ("t4p3-4", 114, "I’m not going to get"),
        ("t8p0-1", 104, "Yeah, sure. So, I guess"),
        ("t10p0-4", 211, "Thank you. So, on your"),
    ]


def test_replies_and_sign_offs_are_no_passages():
    """Turn 6 is "Yep." (to "Can you hear me?"), turn 11 the sign-off: they stay turns, not passages."""
    turns = turns_of(WHITEHOUSE_SEED)

    assert turns[6].text == "Yep."
    assert turns[11].text.startswith("Thank you all. That concludes the call. And with that, the embargo is lifted.")
    assert {p.turn for p in passages_of(WHITEHOUSE_SEED)}.isdisjoint({6, 11})


@pytest.mark.parametrize("path, number, text", [
    (FAUCI_FAREWELL, 107, "So, hold on one second. Dr. Jha is going to stay to take a couple more questions, but "
                          "Dr. Fauci actually has to go.\n\nSo, thank you so much, Dr. Fauci."),
    (FAUCI_FAREWELL, 109, "You want to — you want to answer it?"),
    (FAUCI_FAREWELL, 111, "Okay. He — he says he’ll answer it.\n\nOkay, go ahead. Go ahead."),
    (AFRICA_SUMMIT_CALL, 14, "[Senior administration official], do you want to take that one? "
                             "Have we lost [senior administration official]?"),
    (NAP_BRIEFING, 0, "All right. Good afternoon, everybody.\n\nCome on. Good afternoon, everybody."),
])
def test_handing_over_and_greeting_are_no_passages(path, number, text):
    """An official handing the question to another official, or greeting the room, answers nothing."""
    turn = next(t for t in turns_of(path) if t.number == number and t.role == "official")

    assert turn.text == text
    assert number not in {p.turn for p in passages_of(path)}


@pytest.mark.parametrize("path, said", [
    (BRIEFINGS / "2022-11" / "2022-11-30-press-briefing-by-press-secretary-karine-jean-pierre-november-30-2022.md",
     "That’s how they want to take care of this situation."),
    (BRIEFINGS / "2021-02" / "2021-02-17-press-briefing-by-white-house-covid-19-response-team-and-public-health-"
                             "officials-4.md",
     "Good morning, everybody. It’s been 27 days since the President launched"),
    (BRIEFINGS / "2023-04" / "2023-04-04-press-briefing-by-press-secretary-karine-jean-pierre-23.md",
     "have to go back to my team before I can comment fully"),
    (BRIEFINGS / "2021-02" / "2021-02-25-press-briefing-by-press-secretary-jen-psaki-february-25-2021.md",
     "we’ll have to go from there"),
    (BRIEFINGS / "2022-11" / "2022-11-04-press-gaggle-by-press-secretary-karine-jean-pierre-en-route-chicago-il.md",
     "The President will return to Washington, D.C., on Thursday, November 17th."),
])
def test_answers_that_sound_like_handing_over_stay_passages(path, said):
    """The words of a hand-over or a goodbye inside an answer, or a greeting before the news, keep the answer."""
    assert any(said in p.text for p in passages_of(path))


def test_the_answer_after_a_hand_over_is_a_passage():
    """Fauci's answer after three turns of handing over is kept, and the hand-over is not."""
    passages = passages_of(FAUCI_FAREWELL)

    assert any(p.turn == 115 and p.text.startswith("All right. The answer is: If there are oversight hearings")
               for p in passages)
    assert not any("you want to answer it" in p.text for p in passages)


def test_presidency_project_seed_passages():
    assert outline(passages_of(PRESIDENCY_SEED)) == [
        ("t1p0-3", 192, "Thanks. And thanks, everybody, for"),
        ("t1p4-7", 178, "So, as always, we continue"),
        ("t1p8-12", 169, "Whatever Russia decides, our assessment"),
        ("t1p13-14", 34, "If it does, the damage"),
        ("t4p0-2", 186, "Thanks, Trevor. So, look, our"),
        ("t6p0-1", 158, "So, I guess I'd say"),
        ("t6p2-2", 50, "As to our plans going"),
        ("t8p0-2", 158, "So, on your first point,"),
    ]


def test_passage_record_points_back_to_its_turn():
    passage = passages_of(WHITEHOUSE_SEED)[4]
    turn = turns_of(WHITEHOUSE_SEED)[4]

    assert passage.passage_id == "2021-12-30-background-press-call-biden-putin#t4p0-2"
    assert (passage.doc_id, passage.turn, passage.para_start, passage.para_end) == (turn.doc_id, 4, 0, 2)
    assert (passage.speaker, passage.role) == ("Senior Administration Official", "official")
    assert passage.text == "\n\n".join(turn.paragraphs[0:3])
    assert passage.text.endswith("and then broader issues of European security that go beyond merely NATO and "
                                 "Russia, in the context of the OSCE.")


# questions


def test_answer_keeps_the_reporter_question():
    turns = turns_of(WHITEHOUSE_SEED)
    questions = {p.turn: p.question for p in passages_of(WHITEHOUSE_SEED)}

    assert questions[4] == turns[3].text
    assert questions[4].startswith("Yeah. Hi, thanks so much for doing this.")
    assert questions[8] == turns[7].text
    assert questions[10] == turns[9].text


def test_opening_statement_has_no_question():
    """The moderator hands over without asking."""
    questions = {p.turn: p.question for p in passages_of(WHITEHOUSE_SEED)}

    assert questions[1] is None


def test_an_answer_after_a_counter_question_keeps_the_question_before_it():
    """Sullivan asks back ("... a security guarantee for the President's visit?"), the reporter says
    "That's correct. Yes.", and his answer answers her first question, not "Yes."."""
    turns = turns_of(KYIV_CALL)
    questions = {p.turn: p.question for p in passages_of(KYIV_CALL)}

    assert turns[18].text.endswith("The Russians are saying they provided a security guarantee for the President’s visit?")
    assert turns[19].text == "That’s correct. Yes."
    assert 18 not in questions
    assert questions[20] == turns[17].text
    assert questions[20].startswith("Hi, thank you for doing this. I have a really quick question, Jake.")


def test_a_greeting_is_no_question():
    """Psaki's opening follows a reporter's "Happy Friday.": it answers no question."""
    turns = turns_of(PSAKI_SULLIVAN)
    opening = [p for p in passages_of(PSAKI_SULLIVAN) if p.turn == 2]

    assert turns[1].text == "Happy Friday."
    assert opening and all(p.question is None for p in opening)


def test_official_who_adds_to_an_answer_inherits_the_question():
    turns = turns_of(BUDGET_CALL)
    added = [p for p in passages_of(BUDGET_CALL) if p.turn == 12]

    assert [t.speaker for t in turns[10:13]] == ["Reporter", "Shalanda Young", "Cecilia Rouse"]
    assert [(p.speaker, p.question) for p in added] == [("Cecilia Rouse", turns[10].text)]
    assert added[0].text.startswith("Hi, this is Cecilia Rouse. And I would just add")


# officials only, never mid-sentence


@pytest.mark.parametrize("path", SAMPLES, ids=lambda path: path.name[:40])
def test_only_officials_words_from_the_paragraphs_named(path):
    turns = turns_of(path)

    assert passages_of(path)
    for passage in passages_of(path):
        turn = turns[passage.turn]
        span = turn.paragraphs[passage.para_start : passage.para_end + 1]
        assert (passage.speaker, passage.role) == (turn.speaker, turn.role) == (turn.speaker, "official")
        assert all(any(piece in paragraph for paragraph in span) for piece in passage.text.split("\n\n"))


@pytest.mark.parametrize("path", SAMPLES, ids=lambda path: path.name[:40])
def test_passages_end_on_a_paragraph_or_sentence_end(path):
    turns = turns_of(path)

    for passage in passages_of(path):
        last_piece = passage.text.split("\n\n")[-1]
        ends_paragraph = turns[passage.turn].paragraphs[passage.para_end].endswith(last_piece)
        assert ends_paragraph or SENTENCE_END.search(last_piece), passage.passage_id
        assert passage.word_count <= MOST_WORDS, passage.passage_id


def test_psaki_sullivan_briefing_passages():
    passages = passages_of(PSAKI_SULLIVAN)

    assert len(passages) == 75
    assert {p.speaker for p in passages} == {"Jen Psaki", "Jake Sullivan"}
    assert sum(p.question is None for p in passages) == 7


def test_long_paragraph_is_cut_between_sentences():
    paragraph = read_document(JOINT_STATEMENT).paragraphs[0]
    passages = passages_of(JOINT_STATEMENT)

    assert len(paragraph.split()) == 204
    assert [p.passage_id.split("#")[1] for p in passages] == ["t0p0-0s0", "t0p0-0s1"]
    assert [p.word_count for p in passages] == [186, 18]
    assert passages[0].text.endswith("Our countries are both stronger when we work together towards our shared "
                                     "objectives.")
    assert passages[1].text == (
        "We look forward to building on the enduring partnership between our two great nations in the years ahead."
    )
    assert " ".join(p.text for p in passages) == paragraph


def test_a_smaller_limit_cuts_more_but_never_inside_a_sentence():
    passages = make_passages(list(turns_of(WHITEHOUSE_SEED)), max_words=60)
    too_long = [p for p in passages if p.word_count > 60 * 1.15]

    assert len(passages) == 26
    assert [(p.passage_id.split("#")[1], p.word_count) for p in too_long] == [("t4p2-2s0", 101), ("t8p0-0s1", 73)]
    assert [len(syntok_sentences(p.text)) for p in too_long] == [1, 1]


# written statements


def test_statement_from_the_president():
    passages = passages_of(SANDY_HOOK)

    assert [(p.passage_id.split("#")[1], p.speaker, p.role, p.question) for p in passages] == [
        ("t0p0-1", "Joe Biden", "official", None),
        ("t0p2-2", "Joe Biden", "official", None),
    ]
    assert passages[0].text.startswith("Today, the families of nine victims of the Sandy Hook Elementary School")


def test_statement_by_the_press_secretary():
    passages = passages_of(PSAKI_STATEMENT)

    assert [(p.speaker, p.word_count) for p in passages] == [("Jen Psaki", 153)]
    assert passages[0].text.startswith("We have anticipated a move like this from Russia and are ready to respond")


def test_release_that_names_no_author_is_the_white_house():
    passages = passages_of(PUTIN_READOUT)

    assert [(p.speaker, p.word_count) for p in passages] == [("The White House", 108)]
    assert passages[0].text.startswith("President Joseph R. Biden, Jr. spoke today with President Vladimir Putin")
