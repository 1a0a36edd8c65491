"""`python -m indexer ...`: a thin shell over the Python API.

Every command turns a PodiumError into one line on stderr and exit code 2.
"""

from __future__ import annotations

import contextlib
import functools
import sys

import textwrap

import click
from click.core import ParameterSource

from .compute import ENGINES, EngineUnavailable, engine_for
from .controls import json_text, printable
from .errors import BadQuery, IndexCorrupt, PodiumError
from .index.build import build_index
from .index.integrity import check_index
from .index.layout import rebuild_hint
from .ingest.corpus import read_corpus
from .records import ROLES
from .search import MAX_K, MODES, Filters, Index, Results, default_index_dir
from .search.export import results_csv, results_json
from .search.results import shown_title
from .store.location import chosen
from .store.milvus_check import check_store


NO_CLOSE_MATCH = "No close match: nothing in this index answers the question. The closest statements:"


def friendly_errors(command):
    """Print a PodiumError as one line and exit 2, never a traceback."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except PodiumError as exc:
            say(f"error: {exc}", err=True)
            sys.exit(2)

    return wrapper


def say(text: str, err: bool = False) -> None:
    """Print readable output with every control character shown escaped (indexer/controls.py), so a file
    name, a title or a link cannot send the terminal an escape sequence. JSON (`json_text`, which escapes them) and
    CSV are machine output, printed as they are."""
    click.echo(printable(text), err=err)


class OneLineError(click.ClickException):
    exit_code = 2

    def show(self, file=None) -> None:
        say(f"error: {self.message}", err=True)


@contextlib.contextmanager
def one_line_usage_errors():
    """Click's own errors (an unknown option, a missing argument, a bad value) as one `error:` line and
    exit 2 like every other mistake, instead of click's usage block; `--help` still prints the usage."""
    try:
        yield
    except (OneLineError, click.exceptions.NoArgsIsHelpError):
        raise
    except click.ClickException as exc:
        ctx = getattr(exc, "ctx", None)
        hint = f"; see: {ctx.command_path} --help" if ctx else ""
        raise OneLineError(exc.format_message().rstrip(".") + hint) from exc


class OneLineErrors(click.Group):
    def make_context(self, *args, **kwargs):
        with one_line_usage_errors():
            return super().make_context(*args, **kwargs)

    def invoke(self, ctx):
        with one_line_usage_errors():
            return super().invoke(ctx)


@click.group(cls=OneLineErrors, context_settings={"help_option_names": ["-h", "--help"]})
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
        click.echo(json_text(report))
    else:
        say(_readable_report(report))


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


index_option = click.option(
    "--index", "index_dir", type=click.Path(file_okay=False), default=None,
    help="Index directory [default: $PODIUM_INDEX or data/index].",
)

store_option = click.option(
    "--store", default=None, envvar="PODIUM_STORE",
    help="A Milvus store instead of the index directory: milvus:///path/to/file.db (Milvus Lite) or "
         "http://host:port (a server; token in $PODIUM_MILVUS_TOKEN) [default: $PODIUM_STORE].",
)


@main.command()
@click.argument("paths", nargs=-1, required=True)
@index_option
@store_option
@click.option("--model", default=None, help="sentence-transformers model name or local path; "
              "all-MiniLM-L6-v2 is the packaged model as it ships "
              "[default: that model adapted to briefings, see indexer/embedding/adapter.py].")
@click.option("--engine", type=click.Choice(ENGINES), default="local", show_default=True,
              help="Where files are read and new passages embedded: in this process, or on Ray (Ray Data).")
@click.option("--ray-address", envvar="RAY_ADDRESS", default=None,
              help="With --engine ray: the Ray cluster to run on, HOST:PORT [default: $RAY_ADDRESS, "
                   "else a Ray started on this machine].")
@friendly_errors
def build(paths, index_dir, store, model, engine, ray_address):
    """Index transcripts (files or folders): embed new passages, swap the new index in."""
    given = click.get_current_context().get_parameter_source("ray_address") == ParameterSource.COMMANDLINE
    if given and engine != "ray":
        raise EngineUnavailable("--ray-address runs the build on Ray: add --engine ray")
    with engine_for(engine, ray_address) as running:
        report = build_index(list(paths), index_dir or default_index_dir(), model=model, store=chosen(store),
                             engine=running)
    say(report.summary())


@main.command()
@click.argument("question", required=False)
@index_option
@store_option
@click.option("-k", "k", default=10, show_default=True, type=click.IntRange(1, MAX_K), help="How many results.")
@click.option("--since", help="Earliest date: YYYY-MM-DD, YYYY-MM or YYYY.")
@click.option("--until", help="Latest date: YYYY-MM-DD, YYYY-MM or YYYY.")
@click.option("--speaker", "speakers", multiple=True, help="Only this speaker (full name or surname); repeatable.")
@click.option("--role", type=click.Choice(ROLES), help="Only this speaker role.")
@click.option("--kind", "kinds", multiple=True, help="Only this document kind (see `stats`); repeatable.")
@click.option("--mode", type=click.Choice(MODES), default="hybrid", show_default=True,
              help="Dense (meaning), keyword (BM25) or both fused.")
@click.option("--per-doc", default=0, show_default=True, type=click.IntRange(0, 1000),
              help="At most this many passages from one document (0: no limit).")
@click.option("--model", default=None, help="Fail unless the index was built with this model.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV.")
@click.option("--queries", type=click.File("rb"),
              help="Batch: one question a line (UTF-8); prints one JSON line each.")
@friendly_errors
def search(question, index_dir, store, k, since, until, speakers, role, kinds, mode, per_doc, model,
           as_json, as_csv, queries):
    """Find what officials said in answer to QUESTION. Put "exact phrases" in double quotes."""
    if (question is None) == (queries is None):
        raise BadQuery('give one question, or --queries FILE, e.g.: python -m indexer search "air defense for Ukraine"')
    index = Index.open(index_dir, model=model, store=chosen(store))
    filters = Filters(since=since, until=until, speakers=speakers, role=role, kinds=kinds)
    options = dict(k=k, filters=filters, mode=mode, per_doc=per_doc or None)
    if queries:
        for number, line in enumerate(queries, start=1):
            if asked := _query_line(line, number, queries.name):
                click.echo(results_json(asked, index.search(asked, **options), indent=None))
        return
    results = index.search(question, **options)
    if as_json:
        click.echo(results_json(question, results))
    elif as_csv:
        click.echo(results_csv(results), nl=False)
    else:
        say(_readable_results(results))


@main.command()
@index_option
@store_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@friendly_errors
def stats(index_dir, store, as_json):
    """What an index holds: documents, passages, speakers, dates, model, size."""
    info = Index.open(index_dir, store=chosen(store)).stats()
    if as_json:
        click.echo(json_text(info))
        return
    say(
        f"index       {info['index']} (version {info['version']}, built {info['built_at']})\n"
        f"documents   {info['documents']}\n"
        f"passages    {info['passages']}\n"
        f"speakers    {info['speakers']}: "
        + ", ".join(f"{s['name']} ({s['passages']})" for s in info["top_speakers"]) + "\n"
        f"kinds       " + ", ".join(f"{k} ({n})" for k, n in info["kinds"].items()) + "\n"
        f"dates       {info['date_range'][0]} .. {info['date_range'][1]}\n"
        f"model       {info['model']} ({info['dimension']} dimensions)\n"
        f"encoder     {info['encoder']}\n"
        f"size        {_megabytes(info['size_bytes'])}"
    )


@main.command()
@index_option
@store_option
@friendly_errors
def check(index_dir, store):
    """Verify an index: every file against the checksums in its manifest (in a Milvus store: every
    collection against the manifest's counts). Exit 0 if whole, 2 if not."""
    spec = chosen(store)
    where = spec or index_dir or default_index_dir()
    version, checks = check_store(spec) if spec else check_index(where)
    for item in checks:
        say(f"{'DAMAGED' if item.damaged else 'ok':8} {item.path}: {item.detail}")
    if any(item.damaged for item in checks):
        fix = f"rebuild it with: python -m indexer build PATH... --store {spec}" if spec else rebuild_hint(version)
        raise IndexCorrupt(f"the index at {where} is damaged; {fix}")
    say(f"the index at {where} is whole (version {version.name})")


@main.command("eval")
@click.argument("more_paths", nargs=-1, type=click.Path(exists=True))
@click.option("--corpus", "corpus", multiple=True, type=click.Path(exists=True),
              help="Transcript folders or files to index and sample from; more may follow it "
                   "(--corpus a b c) [default: ../shared/corpus/whitehouse/press-briefings/2022-03].")
@click.option("--sample", default=1000, show_default=True, type=click.IntRange(1), help="Question->answer pairs to sample.")
@click.option("--seed", default=0, show_default=True, help="Seed of the sample.")
@click.option("--indexes", "index_root", type=click.Path(file_okay=False), default=None,
              help="The folder of the eval indexes, one per model, each index-<key of corpus and settings> "
                   "[default: /tmp/eval]; an index is reused when it was built from the same files and settings.")
@click.option("--store", default=None, help="A Milvus Lite file, e.g. milvus:///tmp/eval/eval.db: each model's "
              "eval index is a Lite file beside it, eval-<key>.db, reused as the local ones are "
              "[default: $PODIUM_STORE, else the local store under --indexes].")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@friendly_errors
def evaluate_command(more_paths, corpus, sample, seed, index_root, store, as_json):
    """Score keyword, dense, plain hybrid and the default ranking on question->answer pairs and the dev set."""
    from .evaluation.runs import DEFAULT_CORPUS, evaluate, readable_report

    corpus = [*corpus, *more_paths]
    report = evaluate(corpus or DEFAULT_CORPUS, sample=sample, seed=seed, index_root=index_root,
                      progress=sys.stderr.isatty(), store=store)
    if as_json:
        click.echo(json_text(report))
    else:
        say(readable_report(report))


def _megabytes(size: int | None) -> str:
    return "unknown (on a Milvus server)" if size is None else f"{size / 1e6:.1f} MB"


def _readable_results(results: Results) -> str:
    if not results:
        return "No passages match. Loosen the filters or try other words."
    blocks = [NO_CLOSE_MATCH] if results.no_close_match else []
    for r in results:
        lines = [f"{r.rank}. {r.speaker} ({r.role}), {r.date or 'undated'} - {shown_title(r.title)}"]
        if r.question:
            lines.append(_wrapped("Q: " + _shorten(r.question, 300), "   "))
        lines.append(_wrapped(f"\u201c{r.highlight}\u201d", "   "))
        if r.highlight != r.text:
            lines.append(_wrapped(_shorten(r.text, 600), "   | "))
        lines.append(f"   {r.source_url or r.doc_id}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def _query_line(line: bytes, number: int, name: str) -> str:
    """One line of a --queries file as a question (stripped; empty for a blank line)."""
    try:
        return line.decode("utf-8-sig" if number == 1 else "utf-8").strip()
    except UnicodeDecodeError as exc:
        raise BadQuery(f"line {number} of {name} is not UTF-8 text (bad byte at offset {exc.start}); convert "
                       "the file to UTF-8, e.g. with iconv -f latin1 -t utf-8") from exc


def _wrapped(text: str, indent: str) -> str:
    return textwrap.fill(text, width=100, initial_indent=indent, subsequent_indent=indent)


def _shorten(text: str, limit: int) -> str:
    return textwrap.shorten(text, width=limit, placeholder=" ...")
