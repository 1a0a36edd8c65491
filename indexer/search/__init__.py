"""Searching an index: `Index.open(path).search(question, k, filters=Filters(...))` returns `Results`,
a list of `Result` that says whether any of them answers it (`no_close_match`).

The stage's modules, in the order a search runs them: query and question
(the question as terms, and the period or speakers it names), filters,
vocabulary and retrieval (BM25 and dense), fusion, ranking, highlight and
results; export writes results as CSV or JSON; facts holds what an open index
keeps in memory.
"""

from .filters import Filters
from .index import DEFAULT_INDEX, Index, current_version_name, default_index_dir
from .limits import MAX_K, MAX_QUESTION_CHARS, MODES
from .results import Result, Results

__all__ = ["DEFAULT_INDEX", "MAX_K", "MAX_QUESTION_CHARS", "MODES", "Filters", "Index", "Result", "Results", "current_version_name", "default_index_dir"]
