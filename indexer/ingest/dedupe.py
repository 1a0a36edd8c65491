"""Find the same document read from two sources: identical copies by their identity (title, date and text),
then near copies by their text (MinHash over word shingles).

The titles of two near copies often differ (the Presidency Project rewrites them),
so only the words of the body count there.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass

from datasketch import LeanMinHash, MinHash, MinHashLSH

from ..records import Document

THRESHOLD = 0.8
_PERMUTATIONS = 128
_SHINGLE = 5
_MIN_SHINGLES = 50
_BATCH = 4096
_SOURCE_RANK = {"whitehouse.gov": 0, "American Presidency Project": 1}
_WORD = re.compile(r"[a-z0-9]+")


@dataclass
class Duplicate:
    kept: str
    dropped: list[str]
    similarity: float


def merge_copies(parsed: list[tuple]) -> tuple[list[tuple], list[tuple[Document, list[str]]]]:
    """One of each group of identical documents (`identity`), the preferred one, listing every source; the
    others' paths by the document kept. `parsed` holds (document, ...) tuples, kept in their order."""
    groups: dict[str, list[int]] = {}
    for number, item in enumerate(parsed):
        groups.setdefault(identity(item[0]), []).append(number)
    kept, copies = [], []
    for numbers in groups.values():
        first, *others = sorted(numbers, key=lambda number: _preference(parsed[number][0]))
        doc = parsed[first][0]
        for other in others:
            doc.sources.extend(parsed[other][0].sources)
        kept.append(first)
        if others:
            copies.append((doc, [parsed[other][0].path for other in others]))
    return [parsed[number] for number in sorted(kept)], copies


def merge_duplicates(documents: list[Document], signatures: dict[str, MinHash | None]
                     ) -> tuple[list[Document], list[Duplicate]]:
    """Keep one document per group of near-identical texts; the kept one lists every source.

    `signatures` holds each document's `signature` by doc_id (computed per file, so they can be cached).
    """
    lsh = MinHashLSH(threshold=THRESHOLD, num_perm=_PERMUTATIONS)
    by_id = {doc.doc_id: doc for doc in documents}
    for doc_id, signature in signatures.items():
        if signature is not None:
            lsh.insert(doc_id, signature)
    groups = _connected_groups(signatures, lsh)
    dropped_ids: set[str] = set()
    duplicates = []
    for group in groups:
        ordered = sorted((by_id[doc_id] for doc_id in group), key=_preference)
        kept, others = ordered[0], ordered[1:]
        similarity = min(signatures[kept.doc_id].jaccard(signatures[o.doc_id]) for o in others)
        for other in others:
            kept.sources.extend(other.sources)
            dropped_ids.add(other.doc_id)
        duplicates.append(Duplicate(kept.doc_id, [o.doc_id for o in others], round(similarity, 3)))
    return [doc for doc in documents if doc.doc_id not in dropped_ids], duplicates


def identity(doc: Document) -> str:
    """The SHA-1 (hex) of the title, the date and the text: two files with the same identity are copies of one
    document, however short (MinHash compares only texts of 50 shingles or more)."""
    return hashlib.sha1(json.dumps([doc.title, doc.date, doc.paragraphs]).encode()).hexdigest()


def signature(doc: Document) -> LeanMinHash | None:
    """MinHash over the body's word shingles (lean: as the parse cache stores it); None for a text too short
    to compare."""
    words = _WORD.findall(" ".join(doc.paragraphs).lower())
    shingles = {" ".join(words[i : i + _SHINGLE]).encode() for i in range(len(words) - _SHINGLE + 1)}
    if len(shingles) < _MIN_SHINGLES:
        return None
    signature = MinHash(num_perm=_PERMUTATIONS, seed=1)
    shingles = list(shingles)
    for start in range(0, len(shingles), _BATCH):  # update_batch holds len x permutations hashes at once
        signature.update_batch(shingles[start : start + _BATCH])
    return LeanMinHash(signature)


def _connected_groups(signatures: dict[str, MinHash | None], lsh: MinHashLSH) -> list[list[str]]:
    seen: set[str] = set()
    groups = []
    for doc_id, signature in signatures.items():
        if signature is None or doc_id in seen:
            continue
        group, frontier = {doc_id}, [doc_id]
        while frontier:
            current = frontier.pop()
            for other in lsh.query(signatures[current]):
                if other not in group and signatures[current].jaccard(signatures[other]) >= THRESHOLD:
                    group.add(other)
                    frontier.append(other)
        seen |= group
        if len(group) > 1:
            groups.append(sorted(group))
    return groups


def _preference(doc: Document) -> tuple:
    """whitehouse.gov first (it has the link), then the copy filed in the corpus rather than a seed."""
    return (_SOURCE_RANK.get(doc.source_name, 2), "/seeds/" in doc.path, doc.path)
