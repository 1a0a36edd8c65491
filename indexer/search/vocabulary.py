"""How many passages hold each word, so that BM25 walks only a question's rarer words.

A reporter's question keeps 14 terms on average after stop words, OR-ed, and
FTS5 scores every passage that holds any of them: half the press briefings'
passages for a typical question ("president" alone is in 31% of them), and
that scoring was most of a hybrid query's time, about 1 ms per 1,000
postings. So keyword search takes the question's words rarest first while
together they are in at most 20% of the passages' worth of postings, and
leaves out the commoner rest, which BM25 weighs little anyway (a word in a
third of the passages weighs a tenth of one in 50). On the eval (March 2022,
500 pairs) the default ranking's MRR@10 went from 0.1758 to 0.1840 and the
dev set's from 0.5344 to 0.5391; keyword search alone lost 0.006.

Words are counted as FTS5 indexes them, porter stems of unicode61 tokens
("sanctions" -> "sanction", "Psaki's" -> "psaki", "s"): FTS5 itself splits and
stems them, in a private in-memory table made with the index's tokenizer.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence

POSTINGS_SHARE = 0.2  # of the passages: how many postings BM25 may walk for one question, at most ...
MIN_POSTINGS = 1000   # ... but at least this many (about a millisecond): a small index is searched with every word
TOKENIZE = "porter unicode61"  # as indexer/index/schema.py makes passages_fts


class Stemmer:
    """Words -> the terms FTS5 stores them as. Safe to share between threads (one call at a time)."""

    def __init__(self, tokenize: str = TOKENIZE):
        self._db = sqlite3.connect(":memory:", check_same_thread=False)
        self._db.execute(f"CREATE VIRTUAL TABLE words USING fts5(word, tokenize='{tokenize}')")
        self._db.execute("CREATE VIRTUAL TABLE terms USING fts5vocab(words, 'instance')")
        self._lock = threading.Lock()

    def terms(self, words: Sequence[str]) -> list[tuple[str, ...]]:
        """Each word's terms, in order: none for a word FTS5 does not index."""
        with self._lock:
            self._db.executemany("INSERT INTO words(rowid, word) VALUES (?, ?)", enumerate(words))
            rows = self._db.execute("SELECT doc, term FROM terms ORDER BY doc, offset").fetchall()
            self._db.execute("DELETE FROM words")
        found: dict[int, list[str]] = {}
        for row, term in rows:
            found.setdefault(row, []).append(term)
        return [tuple(found.get(i, ())) for i in range(len(words))]


class Vocabulary:
    """The document frequency of every term of an index's keyword table."""

    def __init__(self, frequencies: dict[str, int], passages: int, stemmer: Stemmer | None = None,
                 asked: frozenset[str] = frozenset()):
        self.frequencies = frequencies
        self.passages = passages
        self.stemmer = stemmer or Stemmer()
        self.asked = asked  # the terms of the reporters' questions

    @classmethod
    def of_index(cls, db: sqlite3.Connection) -> Vocabulary:
        """Read from FTS5's own counts (0.15-0.4 s for the 72,000 passages of the press briefings)."""
        db.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.passages_vocabulary "
                   "USING fts5vocab(main, 'passages_fts', 'row')")
        db.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.questions_vocabulary "
                   "USING fts5vocab(main, 'questions_fts', 'row')")
        frequencies = dict(db.execute("SELECT term, doc FROM temp.passages_vocabulary").fetchall())
        asked = frozenset(row[0] for row in db.execute("SELECT term FROM temp.questions_vocabulary"))
        passages = db.execute("SELECT count(*) FROM passages").fetchone()[0]
        return cls(frequencies, passages, asked=asked)

    def unheard(self, words: Sequence[str]) -> list[str]:
        """The words no passage and no reporter question of the index holds."""
        return [word for word, terms in zip(words, self.stemmer.terms(words))
                if terms and not any(self.frequencies.get(t) or t in self.asked for t in terms)]

    def frequency(self, words: Sequence[str]) -> list[int]:
        """How many passages hold each word (for "don't", the rarer of "don" and "t"); 0 if none."""
        return [min((self.frequencies.get(term, 0) for term in terms), default=0)
                for terms in self.stemmer.terms(words)]

    def telling(self, words: Sequence[str]) -> tuple[str, ...]:
        """The words worth searching, in their order: the rarest first, as long as together they are in
        at most POSTINGS_SHARE of the passages (counting a passage once per word); at least the rarest one."""
        counts = self.frequency(words)
        budget = max(POSTINGS_SHARE * self.passages, MIN_POSTINGS)
        kept, postings = [], 0
        for i in sorted(range(len(words)), key=counts.__getitem__):
            if kept and postings + counts[i] > budget:
                break
            kept.append(i)
            postings += counts[i]
        return tuple(words[i] for i in sorted(kept))
