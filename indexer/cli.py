"""`python -m indexer ...`: a thin shell over the Python API.

Every command turns a PodiumError into one line on stderr and exit code 2.
"""

from __future__ import annotations

import functools
import json
import sys

import click

from .corpus import read_corpus
from .errors import PodiumError


def friendly_errors(command):
    """Print a PodiumError as one line and exit 2, never a traceback."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except PodiumError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main():
    """Podium: semantic search over official statements."""


@main.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of a summary.")
@friendly_errors
def inspect(paths, as_json):
    """Read transcripts (files or folders, recursively) and report what was found."""
    report = read_corpus(list(paths), progress=sys.stderr.isatty() or not as_json).report()
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        click.echo(_readable_report(report))


def _readable_report(report: dict) -> str:
    lines = [
        f"files read         {report['files']}",
        f"failed             {len(report['failed'])}",
        f"documents          {report['documents']}  (kinds: "
        + ", ".join(f"{k} {v}" for k, v in report["kinds"].items()) + ")",
        f"duplicates merged  {sum(len(d['dropped']) for d in report['duplicates'])}",
        f"speaker turns      {report['turns']}  ("
        + ", ".join(f"{k} {v}" for k, v in report["roles"].items()) + ")",
        f"answer passages    {report['passages']}",
        f"question-answer    {report['qa_pairs']}",
        "",
        "top official speakers (turns):",
    ]
    lines += [f"  {s['turns']:>7}  {s['name']}" for s in report["speakers"]]
    if report["duplicates"]:
        lines += ["", "duplicates (kept <- dropped):"]
        lines += [f"  {d['kept']} <- {', '.join(d['dropped'])}" for d in report["duplicates"]]
    if report["failed"]:
        lines += ["", "failed:"]
        lines += [f"  {f['path']}: {f['error']}" for f in report["failed"]]
    return "\n".join(lines)
