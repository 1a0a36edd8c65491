"""Search results as CSV and JSON, the same for the CLI and the web page."""

from __future__ import annotations

import csv
import io
import unicodedata
from dataclasses import fields

from ..controls import json_text
from .results import Result, Results

FIELDS = [f.name for f in fields(Result)]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # what makes a spreadsheet read a cell as a formula (OWASP)


def results_payload(question: str, results: Results) -> dict:
    """The query, whether nothing answers it (`no_close_match`) and the results."""
    return {"query": question, "no_close_match": results.no_close_match, "results": [r.to_dict() for r in results]}


def results_json(question: str, results: Results, indent: int | None = 2) -> str:
    return json_text(results_payload(question, results), indent=indent)


def results_csv(results: list[Result], bom: bool = False) -> str:
    """One row per result, every field, every cell quoted (a spreadsheet set to split on `;` would otherwise
    start a new cell, and perhaps a formula, after `x; =cmd...`); `bom` starts it with a UTF-8 byte-order
    mark, so a spreadsheet (Excel) reads the file as UTF-8 rather than garbling curly quotes and dashes."""
    buffer = io.StringIO()
    if bom:
        buffer.write("\ufeff")
    writer = csv.DictWriter(buffer, fieldnames=FIELDS, quoting=csv.QUOTE_ALL)
    writer.writeheader()
    writer.writerows({key: inert_cell(value) for key, value in r.to_dict().items()} for r in results)
    return buffer.getvalue()


def inert_cell(value):
    """A cell no spreadsheet runs: text starting like a formula (`=HYPERLINK(...)`, `=cmd|...`, `@SUM(...)`),
    after any spaces and in any form NFKC reads as one of those (full-width ＝, small ﹢), gets a leading
    single quote, as OWASP's CSV-injection advice says; numbers are written as they are."""
    if isinstance(value, str) and unicodedata.normalize("NFKC", value).lstrip(" ").startswith(FORMULA_STARTS):
        return "'" + value
    return value
