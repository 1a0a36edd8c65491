"""Document frequencies as FTS5 counts them, and which of a question's words BM25 walks."""

import re

import pytest

from indexer.search.vocabulary import Stemmer, Vocabulary

pytest_plugins = ["index_fixtures"]


def test_words_become_the_terms_fts5_stores():
    terms = Stemmer().terms(["sanctions", "Psaki's", "don’t", "Ukrainians", "2022", "running"])

    assert terms == [("sanction",), ("psaki", "s"), ("don", "t"), ("ukrainian",), ("2022",), ("run",)]


def test_every_word_of_a_real_passage_is_found_in_the_index_vocabulary(slice_index):
    text = slice_index.db.execute("SELECT text FROM passages WHERE id = 100").fetchone()[0]
    words = sorted(set(re.findall(r"\w+(?:['’]\w+)?", text)))
    vocabulary = slice_index._facts.vocabulary

    assert len(words) > 50
    assert all(count >= 1 for count in vocabulary.frequency(words))


def test_frequencies_are_fts5_document_counts(slice_index):
    vocabulary = slice_index._facts.vocabulary
    words = ["president", "sanctions", "banks", "pump", "xylophone"]

    assert vocabulary.passages == 769
    assert vocabulary.frequency(words) == [287, 97, 56, 11, 0]
    for word, count in zip(words, vocabulary.frequency(words)):
        matched = slice_index.db.execute("SELECT count(*) FROM passages_fts WHERE passages_fts MATCH ?", (f'"{word}"',))
        assert matched.fetchone()[0] == count


# Which words are searched: a hand-made vocabulary the size of the press briefings (72,103 passages,
# a budget of 14,420 postings), and one of the size of the test slice. Keys are stems ("gas" is "ga").

BRIEFINGS = {"presid": 22_073, "go": 28_046, "sanction": 930, "bank": 2_000, "russian": 3_000, "ukrain": 3_031,
             "ga": 4_000, "price": 4_000, "pump": 500, "oil": 4_000, "it": 30_110, "is": 34_491}


@pytest.fixture(scope="module")
def briefings():
    return Vocabulary(BRIEFINGS, passages=72_103)


def test_a_common_word_is_left_out_and_the_rest_keep_their_order(briefings):
    assert briefings.telling(["president", "sanctions", "russian", "banks"]) == ("sanctions", "russian", "banks")


def test_the_rarest_words_are_kept_until_the_budget_is_spent(briefings):
    # pump 500 + sanctions 930 + banks 2,000 + russian 3,000 + ukraine 3,031 = 9,461; one more at 4,000 fits
    # (13,461), the next does not; of three words of equal count, the first asked wins
    words = ["oil", "gas", "price", "sanctions", "banks", "russian", "ukraine", "pump"]

    assert briefings.telling(words) == ("oil", "sanctions", "banks", "russian", "ukraine", "pump")


def test_a_question_of_common_words_keeps_its_rarest_one(briefings):
    assert briefings.telling(["is", "it", "going"]) == ("going",)


def test_a_word_the_index_lacks_costs_nothing_and_is_kept(briefings):
    assert briefings.telling(["xylophone", "president"]) == ("xylophone",)


def test_a_small_index_is_searched_with_every_word_under_a_thousand_postings():
    vocabulary = Vocabulary({"presid": 289, "sanction": 97, "russian": 137, "bank": 56, "it": 446}, passages=872)

    assert vocabulary.telling(["president", "sanctions", "russian", "banks"]) == (
        "president", "sanctions", "russian", "banks")
    assert vocabulary.telling(["president", "sanctions", "russian", "banks", "it"]) == (
        "president", "sanctions", "russian", "banks")


def test_no_words_no_terms(briefings):
    assert briefings.telling([]) == ()
