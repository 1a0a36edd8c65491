"""Search results as CSV and JSON, the same for the CLI and the web page."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import fields

from .results import Result, Results

FIELDS = [f.name for f in fields(Result)]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # what makes a spreadsheet read a cell as a formula (OWASP)


def results_payload(question: str, results: Results) -> dict:
    """The query, whether nothing answers it (`no_close_match`) and the results."""
    return {"query": question, "no_close_match": results.no_close_match, "results": [r.to_dict() for r in results]}


def results_json(question: str, results: Results, indent: int | None = 2) -> str:
    return json.dumps(results_payload(question, results), ensure_ascii=False, indent=indent)


def results_csv(results: list[Result], bom: bool = False) -> str:
    """One row per result, every field; `bom` starts it with a UTF-8 byte-order mark, so a spreadsheet
    (Excel) reads the file as UTF-8 rather than garbling curly quotes and dashes."""
    buffer = io.StringIO()
    if bom:
        buffer.write("\ufeff")
    writer = csv.DictWriter(buffer, fieldnames=FIELDS)
    writer.writeheader()
    writer.writerows({key: inert_cell(value) for key, value in r.to_dict().items()} for r in results)
    return buffer.getvalue()


def inert_cell(value):
    """A cell no spreadsheet runs: text starting like a formula (`=HYPERLINK(...)`, `=cmd|...`, `@SUM(...)`)
    gets a leading single quote, as OWASP's CSV-injection advice says; numbers are written as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
