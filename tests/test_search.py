"""Searching a real index of 30 transcripts with the real model: answers, filters, caps, modes."""

import re
from collections import Counter
from dataclasses import fields

import pytest

from indexer.embedding.embedder import DEFAULT_MODEL
from indexer.errors import BadQuery, IndexMismatch
from indexer.search import Filters, Index, Result
from indexer.search.filters import filter_sql

pytest_plugins = ["index_fixtures"]

RESULT_FIELDS = [
    "rank", "score", "text", "highlight", "speaker", "role", "question", "title", "date", "kind",
    "source_url", "doc_id", "passage_id",
]

PARAPHRASES = [
    # "We have in no way opposed Poland transferring planes to Ukraine ... these fighter jets"
    (
        "Would Washington object if Warsaw handed its fighter aircraft to Kyiv?",
        "2022-03-07-press-briefing-by-press-secretary-jen-psaki-march-7th-2022#t46p0-3",
        "Jen Psaki", "2022-03-07",
    ),
    # "the principle of 'nothing about you without you': no conversations about issues that are
    # of ultimate concern to our partners and allies without ... their participation"
    (
        "Did Biden promise not to negotiate Europe's security behind the backs of its allies?",
        "2021-12-30-background-press-call-biden-putin#t1p5-8",
        "Senior Administration Official", "2021-12-30",
    ),
    # "prior to the Taliban's takeover, Afghanistan was dependent on external aid ... which
    # financed 75 percent of public expenditures"
    (
        "What share of Kabul's public spending came from abroad before the takeover?",
        "2022-02-26-background-press-call-by-senior-administration-officials-on-u-s-support-for-the-people-of-afghanistan#t1p5-8",
        "Senior Administration Official", "2022-02-26",
    ),
    # "assess the potential benefits and the risks of a digital dollar" (digital assets order)
    (
        "Will the government create an electronic version of the dollar?",
        "2022-03-09-background-press-call-by-senior-administration-officials-on-the-presidents-new-digital-assets-executive-order#t5p0-2",
        "Senior Administration Official", "2022-03-09",
    ),
    # "the ban is immediate ... we do allow ... wind downs of deliveries for existing purchases
    # that were already contracted for"
    (
        "Does the prohibition take effect right away, and what happens to shipments already under contract?",
        "2022-03-08-background-press-call-on-announcement-of-u-s-ban-on-imports-of-russian-oil-liquefied-natural-gas-and-coal#t4p0-0",
        "Senior Administration Official", "2022-03-08",
    ),
    # "the announcement made by Moderna ... a 25 microgram dose ... in children ... six months up to"
    (
        "How effective was the vaccine in the youngest children?",
        "2022-03-23-press-briefing-by-white-house-covid-19-response-team-and-public-health-officials-84#t20p0-2",
        "Dr. Fauci", "2022-03-23",
    ),
]


def count(index: Index, where: str, params=()) -> int:
    """Passages of the local index that obey an SQL clause: the truth for both stores, which hold the same slice."""
    return index.db.execute(f"SELECT count(*) FROM passages p WHERE {where}", params).fetchone()[0]


@pytest.mark.parametrize("question, passage_id, speaker, date", PARAPHRASES, ids=lambda v: v[:30])
def test_a_question_in_other_words_finds_the_answer_in_the_top_3(any_index, question, passage_id, speaker, date):
    results = any_index.search(question, k=3)

    assert passage_id in [r.passage_id for r in results]
    answer = next(r for r in results if r.passage_id == passage_id)
    assert (answer.speaker, answer.date) == (speaker, date)


def test_the_slice_is_what_the_fixture_promises(any_index):
    stats = any_index.stats()

    assert (stats["documents"], stats["passages"]) == (30, 769)
    assert stats["date_range"] == ["2021-12-30", "2022-03-31"]
    assert stats["kinds"] == {"background call": 362, "press briefing": 231, "gaggle": 157, "press call": 19}
    assert stats["model"] == DEFAULT_MODEL and stats["dimension"] == 384


def test_results_are_ranked_cited_and_highlighted(any_index):
    results = any_index.search("sanctions on Russian banks", k=5)

    assert [r.rank for r in results] == [1, 2, 3, 4, 5]
    assert [r.score for r in results] == sorted((r.score for r in results), reverse=True)
    assert [f.name for f in fields(Result)] == RESULT_FIELDS
    for r in results:
        assert r.highlight and r.highlight in r.text
        assert r.source_url.startswith("https://") and r.title and r.role == "official"
        assert r.passage_id.startswith(r.doc_id + "#")


# Filters: every result obeys the filter, and the filter changes the results.

QUESTION = "sanctions on Russia"


@pytest.fixture(scope="module")
def unfiltered(any_index):
    return any_index.search(QUESTION, k=10)


def test_since_keeps_later_passages(any_index, unfiltered):
    results = any_index.search(QUESTION, k=10, filters=Filters(since="2022-03-01"))

    assert len(results) == 10 and all(r.date >= "2022-03-01" for r in results)
    assert any(r.date < "2022-03-01" for r in unfiltered)


def test_until_keeps_earlier_passages(any_index, unfiltered):
    results = any_index.search(QUESTION, k=10, filters=Filters(until="2022-02-28"))

    assert len(results) == 10 and all(r.date <= "2022-02-28" for r in results)
    assert any(r.date > "2022-02-28" for r in unfiltered)


def test_a_month_or_year_means_all_of_it(any_index):
    month = any_index.search(QUESTION, k=10, filters=Filters(since="2022-02", until="2022-02"))
    year = any_index.search(QUESTION, k=10, filters=Filters(since="2021", until="2021"))

    assert month and all("2022-02-01" <= r.date <= "2022-02-28" for r in month)
    assert {r.date for r in year} == {"2021-12-30"}


def test_speaker_by_surname_any_case(any_index, unfiltered):
    results = any_index.search(QUESTION, k=10, per_doc=0, filters=Filters(speakers=("psaki",)))

    assert len(results) == 10 and {r.speaker for r in results} == {"Jen Psaki"}
    assert any(r.speaker != "Jen Psaki" for r in unfiltered)


def test_a_filter_asked_again_gives_the_same_results_and_a_phrase_still_narrows_it(any_index):
    march = Filters(since="2022-03", until="2022-03")
    first = any_index.search(QUESTION, k=10, filters=march)
    february = any_index.search(QUESTION, k=10, filters=Filters(until="2022-02-28"))
    again = any_index.search(QUESTION, k=10, filters=march)
    phrase = any_index.search(f'"central bank" {QUESTION}', k=10, per_doc=0, filters=march)

    assert [r.passage_id for r in again] == [r.passage_id for r in first]
    assert all(r.date >= "2022-03-01" for r in again) and all(r.date <= "2022-02-28" for r in february)
    assert phrase and all("central bank" in r.text.lower() and r.date >= "2022-03-01" for r in phrase)


@pytest.mark.parametrize("filters", [
    Filters(since="2022-03-01", until="2022-03-15"),  # one run of ids: FTS5 keeps to the range itself
    Filters(speakers=("Psaki",)),                      # scattered ids: a join
], ids=["dates", "speaker"])
def test_filtered_keyword_search_ranks_as_the_whole_index_does(any_index, slice_index, filters):
    filtered = any_index.search(QUESTION, k=10, per_doc=0, mode="keyword", filters=filters)
    every = any_index.search(QUESTION, k=769, per_doc=0, mode="keyword")
    where, params = filter_sql(filters, slice_index._facts)
    allowed = {row[0] for row in slice_index.db.execute(f"SELECT passage_id FROM passages p WHERE {where}", params)}

    assert [r.passage_id for r in filtered] == [r.passage_id for r in every if r.passage_id in allowed][:10]


def test_several_speakers_are_alternatives(any_index):
    results = any_index.search(QUESTION, k=10, per_doc=0, filters=Filters(speakers=("Jen Psaki", "Sullivan")))

    assert {r.speaker for r in results} <= {"Jen Psaki", "Jake Sullivan", "Mr. Sullivan"}
    assert "Jen Psaki" in {r.speaker for r in results} and {r.speaker for r in results} - {"Jen Psaki"}


def test_role_filter(any_index, slice_index):
    """The index holds officials' answers only, so `official` keeps all and the other roles find none."""
    officials = any_index.search(QUESTION, k=10, filters=Filters(role="official"))
    reporters = any_index.search(QUESTION, k=10, filters=Filters(role="reporter"))

    assert len(officials) == 10 and {r.role for r in officials} == {"official"}
    assert reporters == [] and count(slice_index, "role = 'reporter'") == 0


def test_kind_filter_is_repeatable(any_index, unfiltered):
    gaggles = any_index.search(QUESTION, k=10, per_doc=0, filters=Filters(kinds=("gaggle",)))
    either = any_index.search(QUESTION, k=10, filters=Filters(kinds=("gaggle", "press call")), per_doc=0)

    assert len(gaggles) == 10 and {r.kind for r in gaggles} == {"gaggle"}
    assert any(r.kind != "gaggle" for r in unfiltered)
    assert {r.kind for r in either} <= {"gaggle", "press call"}


def test_filters_combine(any_index):
    results = any_index.search(
        "oil prices", k=5, filters=Filters(since="2022-03-08", until="2022-03-31", kinds=("background call",))
    )

    assert len(results) == 5
    assert all(r.kind == "background call" and "2022-03-08" <= r.date <= "2022-03-31" for r in results)


def test_a_narrow_filter_still_returns_k(any_index, slice_index):
    """One speaker within one week: 27 of 769 passages. Filtering before the cut fills all k."""
    week = Filters(speakers=("Jean-Pierre",), since="2022-03-21", until="2022-03-27")
    where = "speaker = 'Karine Jean-Pierre' AND date BETWEEN '2022-03-21' AND '2022-03-27'"
    question = "vaccines for young children"

    uncapped = any_index.search(question, k=10, filters=week)
    capped = any_index.search(question, k=10, filters=week, per_doc=2)

    assert count(slice_index, where) == 27
    assert not any(r.speaker == "Karine Jean-Pierre" for r in any_index.search(question, k=10))
    assert len(uncapped) == 10
    assert all(r.speaker == "Karine Jean-Pierre" and "2022-03-21" <= r.date <= "2022-03-27" for r in uncapped)
    documents = slice_index.db.execute(f"SELECT count(DISTINCT doc_id) FROM passages WHERE {where}").fetchone()[0]
    assert documents == 2 and len(capped) == 2 * documents


def test_no_close_match_for_nonsense_and_for_names_the_index_never_mentions(any_index):
    nonsense = any_index.search("asdkjh qwpoeiru zxcmnb")
    unheard = any_index.search("What did the White House say about DeepSeek?")
    answered = any_index.search("sanctions on Russian banks")

    assert nonsense.no_close_match and len(nonsense) == 10  # the closest statements are still listed
    assert unheard.no_close_match
    assert not answered.no_close_match


def test_a_filter_nothing_satisfies_returns_nothing(any_index):
    assert any_index.search(QUESTION, filters=Filters(since="2023-01-01")) == []


# The per-document cap.

AFGHANISTAN = "humanitarian aid and the central bank of Afghanistan"


def per_document(results):
    return Counter(r.doc_id for r in results)


def test_no_cap_per_document_by_default(any_index):
    """The app groups a briefing's passages under one card instead; `per_doc` caps when asked."""
    uncapped = any_index.search(AFGHANISTAN, k=10)
    capped = any_index.search(AFGHANISTAN, k=10, per_doc=2)

    assert uncapped == any_index.search(AFGHANISTAN, k=10, per_doc=0)
    assert max(per_document(uncapped).values()) > 2
    assert len(capped) == 10 and max(per_document(capped).values()) == 2


@pytest.mark.parametrize("per_doc", [1, 3])
def test_the_cap_can_be_changed(any_index, per_doc):
    results = any_index.search(AFGHANISTAN, k=10, per_doc=per_doc)

    assert len(results) == 10 and max(per_document(results).values()) == per_doc


# Modes.


def test_modes_differ_and_keyword_results_contain_a_query_word(any_index):
    question = "Strategic Petroleum Reserve release"
    by_mode = {mode: any_index.search(question, k=10, mode=mode) for mode in ("dense", "keyword", "hybrid")}

    assert len({tuple(r.passage_id for r in results) for results in by_mode.values()}) == 3
    stems = ("strateg", "petroleum", "reserv", "releas")
    for r in by_mode["keyword"]:
        assert any(word.startswith(stems) for word in re.findall(r"\w+", r.text.lower()))


def test_a_quoted_phrase_is_required(any_index):
    results = any_index.search('"Strategic Petroleum Reserve" Europe', k=10, per_doc=0)

    assert results and all("strategic petroleum reserve" in " ".join(r.text.lower().split()) for r in results)


@pytest.mark.parametrize("question", ['what about NOT', '"unbalanced', "NEAR(", "a:b", "star*"])
@pytest.mark.parametrize("mode", ["keyword", "hybrid"])
def test_fts_syntax_in_a_question_is_just_words(any_index, question, mode):
    results = any_index.search(question, k=5, mode=mode)

    if mode == "hybrid":
        assert len(results) == 5


def test_keyword_mode_finds_operator_words(any_index):
    results = any_index.search("what about NOT", k=3, mode="keyword")

    assert len(results) == 3


LONG_QUESTION = (
    "Thanks, Jen. On Russia: is the President going to announce more sanctions on Russian banks this week, "
    "and what would he say to Americans paying more for gas at the pump?"
)


def test_bm25_leaves_out_the_commonest_words_of_a_long_question(any_index):
    """The slice's budget is 1,000 postings; the question's words are in 1,097 passages, "president" in 289."""
    without = LONG_QUESTION.replace("the President ", "")

    long = any_index.search(LONG_QUESTION, k=10, mode="keyword")
    rarer = any_index.search(without, k=10, mode="keyword")

    assert [r.passage_id for r in long] == [r.passage_id for r in rarer]
    assert long[0].passage_id == "2022-03-08-press-gaggle-by-press-secretary-jen-psaki-3#t2p0-2"


def test_a_question_of_common_words_is_searched_by_its_rarest(any_index):
    results = any_index.search("to the and", k=3, mode="keyword")

    assert len(results) == 3 and all(re.search(r"\band\b", r.text, re.IGNORECASE) for r in results)


# Context and stats.


def test_context_shows_the_exchange_around_a_passage(any_index):
    passage_id = PARAPHRASES[0][1]
    turns = any_index.context(passage_id, before=1, after=0)

    assert [t["number"] for t in turns] == [45, 46]
    assert [t["role"] for t in turns] == ["reporter", "official"]
    assert [t["is_answer"] for t in turns] == [False, True]
    assert "Poland" in turns[1]["text"]


# Errors a user can cause.


def test_opening_with_another_model_is_refused(slice_dir):
    with pytest.raises(IndexMismatch, match=re.escape(f"built with model '{DEFAULT_MODEL}', not 'some/other'")):
        Index.open(slice_dir, model="some/other")


def test_the_default_model_is_accepted_by_name_and_the_plain_model_is_another(slice_dir):
    assert Index.open(slice_dir, model="default").manifest.model == DEFAULT_MODEL
    with pytest.raises(IndexMismatch, match="rebuild with"):
        Index.open(slice_dir, model="sentence-transformers/all-MiniLM-L6-v2")


@pytest.mark.parametrize("filters, message", [
    (Filters(since="2022-13"), "--since '2022-13' is not a date"),
    (Filters(until="yesterday-ish"), "--until 'yesterday-ish' is not a date"),
    (Filters(since="2022-02-30"), "is not a date"),
    (Filters(since="2022-03-31", until="2022-03-01"), "after --until"),
    (Filters(speakers=("Psakki",)), "did you mean Jen Psaki"),
    (Filters(role="president"), "unknown role"),
    (Filters(kinds=("speech",)), "this index has: background call, gaggle, press briefing, press call"),
])
def test_bad_requests_say_what_to_do(any_index, filters, message):
    with pytest.raises(BadQuery, match=message):
        any_index.search(QUESTION, filters=filters)


@pytest.mark.parametrize("question", ["", "   ", "?!"])
def test_an_empty_question_is_refused(any_index, question):
    with pytest.raises(BadQuery):
        any_index.search(question)


def test_an_unknown_mode_is_refused(any_index):
    with pytest.raises(BadQuery, match="unknown mode"):
        any_index.search(QUESTION, mode="fuzzy")
