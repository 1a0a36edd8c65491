"""The API's edge: every date bound, filter and search parameter is either honoured or refused with a BadQuery.

The replays are the attack's findings (issue 18: dates read wrongly, k and per_doc taken as given, a 5 MB
question); the two hypothesis tests run 2,000 examples each over the slice's real index, with what a value
means written out apart from the code (the documented forms), so a misparse shows as a wrong or empty answer.
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from indexer.errors import BadQuery
from indexer.records import ROLES
from indexer.search import MAX_K, MAX_QUESTION_CHARS, MODES, Filters
from indexer.search.ranking import DEFAULT_TUNING, Tuning

pytest_plugins = ["index_fixtures"]

QUESTION = "What did the White House say about sanctions on Russia?"
QUESTIONS = (QUESTION, "air defense for Ukraine", "gas prices", '"central bank" reserves', "Kirby said in March")
REFUSED = "refused"
EXAMPLES = settings(max_examples=2000, deadline=None, database=None,  # nothing written into the repository
                    suppress_health_check=[HealthCheck.too_slow])


# What a value means, by README's table: written apart from indexer/search/filters.py.


def expected_bound(value, end: bool):
    """The ISO day a bound means (the first or last of a year or month), None for no bound, else REFUSED."""
    if value is None:
        return None
    if not isinstance(value, str):
        return REFUSED
    if not value.strip():
        return None
    parts = value.strip().split("-")
    if len(parts) > 3 or not all(part.isascii() and part.isdigit() for part in parts):
        return REFUSED
    if len(parts[0]) != 4 or not all(1 <= len(part) <= 2 for part in parts[1:]):
        return REFUSED
    year, *rest = (int(part) for part in parts)
    if not 1789 <= year <= 2100:  # the years White House statements can have
        return REFUSED
    try:
        if not rest:
            first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
        elif len(rest) == 1:
            first = dt.date(year, rest[0], 1)
            last = dt.date(year, 12, 31) if rest[0] == 12 else dt.date(year, rest[0] + 1, 1) - dt.timedelta(days=1)
        else:
            first = last = dt.date(year, *rest)
    except ValueError:
        return REFUSED
    return (last if end else first).isoformat()


def expected_speakers(wanted, names: list[str]):
    """The display names a speakers filter means (full name, else surname, any case), or REFUSED."""
    if isinstance(wanted, str) or not isinstance(wanted, (tuple, list)):
        return REFUSED
    matched = set()
    for request in wanted:
        if not isinstance(request, str) or not request.strip():
            return REFUSED
        key = request.strip().casefold()
        hits = {n for n in names if n.casefold() == key} or {n for n in names if n.split()[-1].casefold() == key}
        if not hits:
            return REFUSED
        matched |= hits
    return matched


def expected_filters(filters, facts) -> dict | str:
    """What each field of a filter allows, or REFUSED. An empty field (None, "", ()) is no filter."""
    if filters is None:
        filters = Filters()
    if not isinstance(filters, Filters):
        return REFUSED
    low, high = expected_bound(filters.since, end=False), expected_bound(filters.until, end=True)
    speakers = expected_speakers(filters.speakers, facts.names) if filters.speakers else None
    kinds = filters.kinds or ()
    kinds_ok = isinstance(kinds, (tuple, list)) and all(isinstance(k, str) and k in facts.kinds for k in kinds)
    role_ok = filters.role is None or filters.role == "" or (isinstance(filters.role, str) and filters.role in ROLES)
    if REFUSED in (low, high, speakers) or (low and high and low > high) or not kinds_ok or not role_ok:
        return REFUSED
    return {"low": low or "", "high": high or "9999-12-31", "speakers": speakers, "kinds": set(kinds) or None,
            "role": filters.role or None}


def allows(expected: dict, date: str, speaker: str, role: str, kind: str) -> bool:
    return (expected["low"] <= (date or "") <= expected["high"]
            and (expected["speakers"] is None or speaker in expected["speakers"])
            and (expected["kinds"] is None or kind in expected["kinds"])
            and (expected["role"] is None or role == expected["role"]))


@pytest.fixture(scope="module")
def facts(slice_index) -> SimpleNamespace:
    """What the oracles need to know of the slice's index: its speakers, kinds and every passage's fields."""
    return SimpleNamespace(names=[name for name, _ in slice_index.speakers()],
                           kinds={kind for kind, _ in slice_index.kinds()},
                           passages=slice_index.db.execute("SELECT date, speaker, role, kind FROM passages").fetchall())


def assert_honoured(results, expected: dict, passages, dense: bool) -> None:
    """Every result inside the filters; and, for a search by meaning, none only when nothing is inside them."""
    assert all(allows(expected, r.date, r.speaker, r.role, r.kind) for r in results)
    if dense:
        assert bool(results) == any(allows(expected, *fields) for fields in passages)


# The attack's findings, replayed.

MONTHS = {
    "2022-2 is the month": (("2022-2", "2022-2"), ("2022-02", "2022-02")),
    "2022-2-7 is the day": (("2022-2-7", "2022-2-7"), ("2022-02-07", "2022-02-07")),
    "2022-3 to 2022-3": (("2022-3", "2022-3"), ("2022-03-01", "2022-03-31")),
}


@pytest.mark.parametrize("name", MONTHS)
def test_a_one_digit_month_or_day_means_what_it_says(slice_index, name):
    (since, until), (same_since, same_until) = MONTHS[name]

    results = slice_index.search(QUESTION, k=10, filters=Filters(since=since, until=until))

    assert results and results == slice_index.search(QUESTION, k=10, filters=Filters(since=same_since, until=same_until))
    assert all(same_since[:7] <= r.date[:7] <= same_until[:7] for r in results)


BAD_BOUNDS = {
    "arabic-indic digits, a month": ("٢٠٢٢-٠٣", "--since '٢٠٢٢-٠٣' is not a date; use YYYY-MM-DD, YYYY-MM or YYYY"),
    "arabic-indic digits, a year": ("٢٠٢٢", "--since '٢٠٢٢' is not a date"),
    "fullwidth digits": ("２０２２", "--since '２０２２' is not a date"),
    "a range": ("2022-02-10/2022-02-20",
                "--since '2022-02-10/2022-02-20' is a range; give each end its own bound: "
                "--since '2022-02-10' --until '2022-02-20'"),
    "words": ("March 2022", "--since 'March 2022' is not a date"),
    "a time of day": ("2022-03-07T10:00", "is not a date"),
    "year 0": ("0000-01", "--since '0000-01': the year must be from 1789 to 2100"),
    "year 1": ("0001", "--since '0001': the year must be from 1789 to 2100"),
    "year 1788": ("1788-12-31", "the year must be from 1789 to 2100"),
    "year 9999": ("9999", "--since '9999': the year must be from 1789 to 2100"),
    "a 10 MB bound": ("2" * 10_000_000, f"--since '{'2' * 27}...{'2' * 28}' is not a date"),
    "not text": (20220301, "since must be text such as '2022-03' or None, not int"),
}


@pytest.mark.parametrize("name", BAD_BOUNDS)
def test_a_bound_that_is_not_a_documented_date_is_refused_by_name(slice_index, name):
    value, message = BAD_BOUNDS[name]

    with pytest.raises(BadQuery) as refused:
        slice_index.search(QUESTION, filters=Filters(since=value))

    assert message in str(refused.value)


BAD_REQUESTS = {
    "k 10**18": (dict(k=10**18), f"k must be a whole number from 1 to {MAX_K:,}, not 1000000000000000000"),
    "k 2.5": (dict(k=2.5), "k must be a whole number from 1 to 1,000, not 2.5"),
    "k 0": (dict(k=0), "k must be a whole number from 1 to 1,000, not 0"),
    "k True": (dict(k=True), "not True"),
    "k '5'": (dict(k="5"), "not '5'"),
    "per_doc -1": (dict(per_doc=-1), "per_doc must be a whole number of at least 0 (None or 0: no cap), not -1"),
    "per_doc 1.5": (dict(per_doc=1.5), "not 1.5"),
    "mode None": (dict(mode=None), "unknown mode None; use one of: hybrid, dense, keyword"),
    "question over the limit": (dict(question="sanctions " * 10_001),
                                "the question is 100,010 characters; the limit is 100,000 (only the first 2,000 "
                                "are searched): shorten it"),
    "question 5 MB": (dict(question="x" * 5_000_000), "the question is 5,000,000 characters"),
    "question bytes": (dict(question=b"sanctions"), "the question must be text, not bytes"),
    "question None": (dict(question=None), "the question must be text, not NoneType"),
    "filters a dict": (dict(filters={"since": "2022"}), "filters must be a Filters(...), not dict"),
    "speakers a string": (dict(filters=Filters(speakers="Psaki")),
                          "speakers must be a tuple of names, e.g. speakers=('Psaki',)"),
    "an empty speaker": (dict(filters=Filters(speakers=("",))), "speakers must be a tuple of names (non-empty text)"),
    "a kind not text": (dict(filters=Filters(kinds=(["gaggle"],))), "kinds must be a tuple of names"),
    "role not text": (dict(filters=Filters(role=3)), "role must be text"),
    "tuning a string": (dict(tuning="x"), "tuning must be a ranking.Tuning(...) or None, not str"),
    "tuning a dict": (dict(tuning={"clean_query": True}), "tuning must be a ranking.Tuning(...) or None, not dict"),
    "mode 10 MB": (dict(mode="x" * 10_000_000), f"unknown mode '{'x' * 27}...{'x' * 28}'; "),
}
LONG_ID = "x" * 10_000_000
CUT_ID = f"'{'x' * 27}...{'x' * 28}'"  # how a message shows a 10 MB id: cut by reprlib
BAD_CALLS = {
    "context of None": ("context", (None,), "a passage id must be text, not NoneType"),
    "context of a list": ("context", (["x#t1p0-0"],), "a passage id must be text, not list"),
    "context of an int": ("context", (5,), "a passage id must be text, not int"),
    "context of a surrogate": ("context", ("\ud800",), "no passage '\\ud800' in this index (an id is UTF-8 text"),
    "context of 10 MB": ("context", (LONG_ID,), f"no passage {CUT_ID} in this index (an id is UTF-8 text of at most "
                                                "1,000 characters)"),
    "context before '2'": ("context", ("x", "2"), "before must be a whole number of turns from 0 to 1,000, not '2'"),
    "context before 2.5": ("context", ("x", 2.5), "before must be a whole number of turns from 0 to 1,000, not 2.5"),
    "context after -5": ("context", ("x", 2, -5), "after must be a whole number of turns from 0 to 1,000, not -5"),
    "context before 10**18": ("context", ("x", 10**18), "not 1000000000000000000"),
    "transcript of None": ("transcript", (None,), "a document id must be text, not NoneType"),
    "transcript of a dict": ("transcript", ({},), "a document id must be text, not dict"),
    "transcript of a surrogate": ("transcript", ("\ud800",), "no document '\\ud800' in this index"),
    "transcript of 10 MB": ("transcript", (LONG_ID,), f"no document {CUT_ID} in this index"),
    "speakers None": ("match_speakers", (None,), "speakers must be a tuple of names (non-empty text), not None"),
    "speakers an int": ("match_speakers", ((5,),), "speakers must be a tuple of names (non-empty text), not (5,)"),
    "speakers a string": ("match_speakers", ("Psaki",), "speakers must be a tuple of names, e.g. speakers=('Psaki',)"),
    "speakers 10 MB": ("match_speakers", ((LONG_ID,),), f"no speaker named {CUT_ID} in this index"),
}


@pytest.mark.parametrize("name", BAD_CALLS)
def test_a_bad_id_or_name_is_refused_and_shown_cut(slice_index, name):
    method, args, message = BAD_CALLS[name]

    with pytest.raises(BadQuery) as refused:
        getattr(slice_index, method)(*args)

    assert message in str(refused.value) and len(str(refused.value)) < 300


@pytest.mark.parametrize("name", BAD_REQUESTS)
def test_a_request_outside_the_limits_is_refused_saying_the_limit(slice_index, name):
    request = {"question": QUESTION} | BAD_REQUESTS[name][0]

    with pytest.raises(BadQuery) as refused:
        slice_index.search(**request)

    assert BAD_REQUESTS[name][1] in str(refused.value)


def test_the_longest_question_allowed_is_answered(slice_index):
    question = ("sanctions on Russian banks " * 4000)[:MAX_QUESTION_CHARS]

    assert len(slice_index.search(question, k=3, mode="keyword")) == 3


@pytest.mark.parametrize("per_doc", [None, 0])
def test_per_doc_none_and_0_both_mean_no_cap(slice_index, per_doc):
    assert slice_index.search(QUESTION, k=10, per_doc=per_doc) == slice_index.search(QUESTION, k=10)


# Hypothesis: any bound, any request.

DIGITS_ELSEWHERE = "٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹०१२३४५६७८९０１２３４５６７８９"
OTHER_DIGITS = str.maketrans("0123456789", DIGITS_ELSEWHERE[:10])


def mostly(usual, *odd):
    """`usual` nine times in ten, else one of `odd`: most requests are whole, so their answers get checked."""
    return st.integers(0, 9).flatmap(lambda n: usual if n else st.one_of(*odd))


@st.composite
def written_dates(draw, possible: bool) -> str:
    """A date written in one of the documented forms, padded or not; if not `possible`, any year, month 0 to
    13 and day 0 to 32."""
    year = draw(st.integers(2021, 2022) if possible else st.integers(0, 9999) | st.sampled_from([1788, 1789, 2100, 2101]))
    month = draw(st.integers(1, 12) if possible else st.integers(0, 13))
    day = draw(st.integers(1, 28) if possible else st.integers(0, 32))
    pad = draw(st.booleans())
    parts = [f"{year:04d}" if draw(st.booleans()) or year >= 1000 else str(year)]
    parts += [f"{month:02d}" if pad else str(month), f"{day:02d}" if pad else str(day)][:draw(st.integers(0, 2))]
    return draw(st.sampled_from(["", " ", "\t"])) + "-".join(parts) + draw(st.sampled_from(["", " ", "\n"]))


bounds = mostly(
    st.none() | written_dates(possible=True),
    written_dates(possible=False),
    written_dates(possible=True).map(lambda text: text.translate(OTHER_DIGITS)),
    st.tuples(written_dates(possible=True), written_dates(possible=True)).map("/".join),
    st.text(alphabet="0123456789-/ .:T+" + DIGITS_ELSEWHERE, max_size=14),
    st.text(max_size=12),
    st.sampled_from(["2022-2", "٢٠٢٢", "٢٠٢٢-٠٣", "2022-02-10/2022-02-20", "yesterday", "March 2022", "+2022",
                     "-2022", "2022.03", "20220307", "2022-03-07T10:00", "2022-W10", "2022-060"]),
    st.integers() | st.just(dt.date(2022, 3, 1)),
)


@EXAMPLES
@given(since=bounds, until=bounds)
def test_any_date_bounds_are_honoured_or_refused(slice_index, facts, since, until):
    expected = expected_filters(Filters(since=since, until=until), facts)

    try:
        results = slice_index.search(QUESTION, k=5, mode="dense", filters=Filters(since=since, until=until))
    except BadQuery as refused:
        assert expected == REFUSED, f"refused {since!r}..{until!r}: {refused}"
        event("refused")
        return
    assert expected != REFUSED, f"accepted {since!r}..{until!r}"
    event("accepted, some results" if results else "accepted, none within the dates")
    assert_honoured(results, expected, facts.passages, dense=True)


odd_text = st.text(st.characters(exclude_categories=()), max_size=40)  # surrogates, controls, unassigned
questions = mostly(st.sampled_from(QUESTIONS), odd_text, st.none(), st.binary(max_size=8), st.integers(),
                   st.just("Ukraine " * 12_501))
ks = mostly(st.integers(1, 20), st.integers(-3, 0), st.sampled_from([MAX_K, MAX_K + 1, 10**18]),
            st.floats(allow_nan=True), st.booleans(), st.text(max_size=3), st.none())
per_docs = mostly(st.none() | st.integers(0, 4), st.integers(-2, -1), st.floats(0, 3), st.booleans(),
                  st.text(max_size=2))
modes = mostly(st.sampled_from(MODES), st.text(max_size=8), st.none())
tunings = mostly(st.none() | st.just(DEFAULT_TUNING), st.text(max_size=4), st.integers(), st.just({}), st.lists(st.none()))
roles = mostly(st.none() | st.just("official") | st.just(""), st.sampled_from(ROLES), st.text(max_size=8),
               st.integers())


def names_asked(names: list[str]):
    """A full name or a surname of a speaker in the index, in any case, or something else."""
    known = st.sampled_from(names).flatmap(lambda n: st.sampled_from([n, n.upper(), n.split()[-1].lower()]))
    return mostly(known, st.text(max_size=8), st.none(), st.integers())


def filter_values(facts):
    kinds = mostly(st.sampled_from(sorted(facts.kinds)), st.text(max_size=6), st.none())
    names = names_asked(facts.names)
    one_filter = st.builds(
        Filters, since=bounds, until=bounds, role=roles,
        speakers=mostly(st.lists(names, max_size=2).map(tuple), st.lists(names, max_size=1), names),
        kinds=mostly(st.lists(kinds, max_size=2).map(tuple), kinds),
    )
    return mostly(st.none() | one_filter, st.just({"since": "2022"}), st.just("2022"))


def expected_request(question, k, per_doc, mode, tuning) -> bool:
    whole = isinstance(k, int) and not isinstance(k, bool) and 1 <= k <= MAX_K
    capped = per_doc is None or (isinstance(per_doc, int) and not isinstance(per_doc, bool) and per_doc >= 0)
    return (whole and capped and mode in MODES and isinstance(question, str) and len(question) <= MAX_QUESTION_CHARS
            and (tuning is None or isinstance(tuning, Tuning)))


@EXAMPLES
@given(data=st.data(), question=questions, k=ks, per_doc=per_docs, mode=modes, tuning=tunings)
def test_any_search_is_answered_within_its_filters_or_refused(slice_index, facts, data, question, k, per_doc, mode,
                                                              tuning):
    filters = data.draw(filter_values(facts), label="filters")
    expected = expected_filters(filters, facts)
    valid = expected != REFUSED and expected_request(question, k, per_doc, mode, tuning)

    try:
        results = slice_index.search(question, k=k, filters=filters, mode=mode, per_doc=per_doc, tuning=tuning)
    except BadQuery as refused:
        # Only the question's words are left to the code to judge ("no words to search for").
        assert not valid or (question not in QUESTIONS and str(refused).startswith("the question")), str(refused)
        event("refused: " + str(refused).split(" ", 2)[1] if valid else "refused")
        return
    assert valid
    event(f"accepted {mode}, {'some' if results else 'no'} results")
    assert len(results) <= k and [r.rank for r in results] == list(range(1, len(results) + 1))
    if per_doc:
        assert max((sum(r.doc_id == s.doc_id for s in results) for r in results), default=0) <= per_doc
    by_meaning = question in QUESTIONS and '"' not in question and mode != "keyword"  # a phrase narrows it
    assert_honoured(results, expected, facts.passages, dense=by_meaning)
