"""Reading a question: pleasantries dropped, a named period or speaker found; non-answers told apart."""

from __future__ import annotations

import pytest

from indexer.search.ranking import drop_repeats, is_non_answer, seeks_substance, with_document_evidence
from indexer.search.question import clean_question, read_hints, read_period, read_speakers

NAMES = ["Jen Psaki", "John Kirby", "Jake Sullivan", "Joe Biden", "Karine Jean-Pierre", "Anthony Fauci"]


@pytest.mark.parametrize("asked, cleaned", [
    ("Thanks, Jen. Two questions. On Ukraine, is the President going to Poland?",
     "On Ukraine, is the President going to Poland?"),
    ("Thank you, Karine. I have a couple of questions on the debt ceiling. First, will he veto?",
     "First, will he veto?"),
    ("Yeah. Hi, thanks so much for doing this. Was there anything else?", "Was there anything else?"),
    ("Yeah. (Laughter.) What about China?", "What about China?"),
    ("Thank you for doing this. Can you hear me?", "Thank you for doing this. Can you hear me?"),
])
def test_clean_question_drops_pleasantries_but_never_everything(asked, cleaned):
    assert clean_question(asked) == cleaned


@pytest.mark.parametrize("asked, period", [
    ("What did Jen Psaki say about rising gas prices in early March 2022?", ("2022-03-01", "2022-03-12")),
    ("the hurricane that hit Louisiana at the end of August 2021", ("2021-08-18", "2021-09-03")),
    ("the shooting at Trump's rally in mid-July 2024", ("2024-07-08", "2024-07-23")),
    ("the OPEC+ oil production cut in October 2022", ("2022-10-01", "2022-10-31")),
    ("a recession in the summer of 2022", ("2022-06-01", "2022-08-31")),
    ("the 2021 jump in inflation", ("2021-01-01", "2021-12-31")),
    ("on March 7, 2022", ("2022-03-05", "2022-03-09")),
    ("in the week of March 7, 2022", ("2022-03-07", "2022-03-13")),
    ("the border in late 2023", ("2023-09-01", "2023-12-31")),
    ("inflation in mid-2022", ("2022-05-01", "2022-08-31")),
    ("baby formula shortage", (None, None)),
])
def test_read_period(asked, period):
    assert read_period(asked) == period


def test_read_speakers_by_full_name_or_surname_as_written():
    assert read_speakers("What did Kirby say about the Houthis?", NAMES) == ("John Kirby",)
    assert read_speakers("How did Jake Sullivan justify cluster munitions?", NAMES) == ("Jake Sullivan",)
    assert read_speakers("What did Dr. Fauci say about Delta?", NAMES) == ("Anthony Fauci",)
    assert read_speakers("Kirby on whether Russia has become Beijing's junior partner", NAMES) == ("John Kirby",)
    assert read_speakers("Jean-Pierre: is the President running?", NAMES) == ("Karine Jean-Pierre",)
    assert read_speakers("kirby on the Houthis", NAMES) == ()  # a surname as written, capitalized
    assert not read_hints("baby formula shortage", NAMES)


def test_the_president_is_the_subject_of_a_question_not_its_speaker():
    assert read_speakers("What did the U.S. hope to get out of Biden's meeting with Xi?", NAMES) == ()
    assert read_speakers("Did Joe Biden know in advance?", NAMES) == ()


def test_a_day_without_a_year_is_that_day_in_every_year_the_index_holds():
    hints = read_hints("What did Biden tell Putin on the February 12 call?", NAMES, range(2021, 2023))

    assert hints.periods == (("2021-02-11", "2021-02-13"), ("2022-02-11", "2022-02-13"))
    assert read_hints("February 29th", NAMES, range(2021, 2025)).periods == (("2024-02-28", "2024-03-01"),)
    assert read_hints("on February 12, 2022", NAMES, range(2021, 2023)).periods == (("2022-02-10", "2022-02-14"),)


def test_non_answers_are_short_or_short_deflections():
    assert is_non_answer("Go ahead.")
    assert is_non_answer("I don't have anything to share on that. I'd refer you to the Department of Defense.")
    long_answer = "I don't have anything new on the timeline, but " + "the release is 180 million barrels " * 12
    assert not is_non_answer(long_answer)
    assert not is_non_answer("The President announced the largest release from the Strategic Petroleum Reserve "
                             "in history, a million barrels a day for six months, to bring prices down.")
    assert seeks_substance("What did Psaki say about Ukraine?")
    assert not seeks_substance("Did the White House decline to comment on the leak?")


def test_drop_repeats_keeps_the_best_of_a_repeated_talking_point():
    point = "We have been very clear that the President will continue to do everything he can to lower costs for families"
    texts = {1: point + " today.", 2: "Something else entirely.", 3: point + " this week."}
    assert drop_repeats([(1, 0.9), (2, 0.8), (3, 0.7)], texts) == [(1, 0.9), (2, 0.8)]


def test_document_evidence_lifts_passages_of_a_document_that_keeps_matching():
    document_of = [0, 1, 1, 1]
    ranked = [(0, 0.05), (1, 0.04), (2, 0.03), (3, 0.02)]
    boosted = with_document_evidence(ranked, document_of, 1.0)
    assert [p for p, _ in boosted] == [1, 2, 3, 0]
    assert boosted[0][1] == pytest.approx(0.04 + 0.09)
