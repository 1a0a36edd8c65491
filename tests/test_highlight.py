"""The query-time sentence splitter agrees with syntok (which cuts passages) on real briefings, and is exact."""

from corpus_slices import CHINA_CALL, SEED_FILES
from indexer.ingest import passages
from indexer.search import highlight
from indexer.ingest.corpus import read_corpus


def paragraphs() -> list[str]:
    corpus = read_corpus([*SEED_FILES, CHINA_CALL], progress=False)
    return [paragraph for p in corpus.passages for paragraph in p.text.split("\n\n")]


def test_abbreviations_and_initials_do_not_end_a_sentence():
    text = ("President Biden spoke with Mr. Putin today. He said the U.S. Government will act. "
            "\u201cWe will respond,\u201d he said. John F. Kennedy said so on Jan. 5 in St. Louis. Are they? Yes.")

    assert highlight.quick_sentences(text) == [
        "President Biden spoke with Mr. Putin today.", "He said the U.S. Government will act.",
        "\u201cWe will respond,\u201d he said.", "John F. Kennedy said so on Jan. 5 in St. Louis.", "Are they?", "Yes.",
    ]


def test_it_agrees_with_syntok_on_real_passages_and_every_sentence_is_a_substring():
    found = [(p, highlight.quick_sentences(p), passages.syntok_sentences(p)) for p in paragraphs()]
    agree = sum(quick == careful for _, quick, careful in found) / len(found)

    assert len(found) > 40 and agree >= 0.95
    assert all(sentence in paragraph for paragraph, quick, _ in found for sentence in quick)


def test_the_highlight_is_the_sentence_with_the_question_words():
    text = ("Thank you. The President was clear. Sanctions on Russian banks will be severe and swift. "
            "We will see what happens.")

    assert highlight.best_sentences(text, ["sanctions", "banks"]) == "Sanctions on Russian banks will be severe and swift."
