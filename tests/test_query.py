"""A user's question reaches FTS5 as quoted words, never as FTS5 syntax."""

import sqlite3

import pytest

from indexer.errors import BadQuery
from indexer.search.query import MAX_QUERY_CHARS, parse_query

USER_SYNTAX = ['what about NOT', '"unbalanced', "NEAR(", "a:b", "star*", "OR AND", "sanctions -Russia ^"]


@pytest.fixture
def fts():
    """A tiny FTS5 table made the way indexer/index/schema.py makes passages_fts (porter, unicode61)."""
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE t USING fts5(text, tokenize='porter unicode61')")
    db.executemany("INSERT INTO t(rowid, text) VALUES (?, ?)", [
        (1, "We will not speculate about what Putin will do."),
        (2, "Near the border, a star witness for sanctions on Russia."),
        (3, "The Strategic Petroleum Reserve release lowers the price at the pump."),
        (4, "The price of a barrel of oil and the reserve of the treasury."),
    ])
    yield db
    db.close()


def matches(db, expression):
    return [row[0] for row in db.execute("SELECT rowid FROM t WHERE t MATCH ? ORDER BY rowid", (expression,))]


@pytest.mark.parametrize("raw", ['what about NOT', '"unbalanced', "NEAR(", "a:b"])
def test_raw_user_text_is_an_fts5_error_on_this_sqlite(fts, raw):
    """Why quoting matters: these questions crash a naive MATCH."""
    with pytest.raises(sqlite3.OperationalError):
        matches(fts, raw)


@pytest.mark.parametrize("text", USER_SYNTAX)
def test_every_question_becomes_a_valid_match_expression(fts, text):
    matches(fts, parse_query(text).fts_expression())


def test_operators_are_searched_as_words(fts):
    assert parse_query("what about NOT").fts_expression() == '"what" OR "about" OR "not"'
    assert matches(fts, parse_query("what about NOT").fts_expression()) == [1]
    assert parse_query("NEAR(").fts_expression() == '"near"'
    assert matches(fts, parse_query("NEAR(").fts_expression()) == [2]


def test_column_filter_and_prefix_syntax_are_plain_words(fts):
    assert parse_query("a:b").terms == ("b",)
    assert parse_query("star*").fts_expression() == '"star"'
    assert matches(fts, parse_query("star*").fts_expression()) == [2]


def test_stopwords_drop_unless_nothing_else_is_left():
    assert parse_query("what did they say about sanctions on Russia?").terms == ("sanctions", "russia")
    assert parse_query("what about NOT").terms == ("what", "about", "not")


def test_words_are_lowercased_and_deduplicated_in_order():
    assert parse_query("Oil OIL gas oil").terms == ("oil", "gas")


def test_a_quoted_phrase_is_required_and_other_words_are_optional(fts):
    query = parse_query('"Strategic Petroleum Reserve" price')

    assert query.phrases == ("strategic petroleum reserve",)
    assert query.terms == ("price",)
    assert query.fts_expression() == '"strategic petroleum reserve" AND ("strategic petroleum reserve" OR "price")'
    assert query.phrase_expression() == '"strategic petroleum reserve"'
    assert matches(fts, query.fts_expression()) == [3]


def test_a_phrase_alone_keeps_its_stopwords():
    query = parse_query('"nothing about you without you"')

    assert query.terms == ()
    assert query.fts_expression() == '"nothing about you without you"'


def test_unbalanced_quote_is_an_ordinary_word():
    query = parse_query('"unbalanced')

    assert (query.terms, query.phrases) == (("unbalanced",), ())


def test_an_empty_phrase_is_ignored():
    assert parse_query('"" oil').fts_expression() == '"oil"'


def test_control_characters_become_spaces():
    assert parse_query("oil\x00gas\x07price").terms == ("oil", "gas", "price")


def test_very_long_questions_are_cut():
    query = parse_query("sanctions " * 1000)

    assert len(query.text) <= MAX_QUERY_CHARS
    assert query.terms == ("sanctions",)


@pytest.mark.parametrize("text", ["", "   ", "\n\t", None])
def test_an_empty_question_is_refused(text):
    with pytest.raises(BadQuery, match="empty"):
        parse_query(text)


@pytest.mark.parametrize("text", ["?!", "*", '""', "-- :"])
def test_a_question_without_words_is_refused(text):
    with pytest.raises(BadQuery, match="no words"):
        parse_query(text)
