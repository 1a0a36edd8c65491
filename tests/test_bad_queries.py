"""Bad input to search, through the CLI: a clear answer or one `error:` line, never a traceback or an executed query."""

import json

import pytest
from click.testing import CliRunner

from indexer.cli import main
from indexer.search import Index

pytest_plugins = ["index_fixtures"]

ANSWERED = {
    "100 kB": ("Ukraine sanctions " * 5556)[:100_000],  # the longest allowed (indexer/search/limits.py)
    "sql": "'; DROP TABLE passages; --",
    "sql in quotes": '"x"; DELETE FROM documents WHERE 1=1; --',
    "fts operators": "NOT Putin OR NEAR(Ukraine sanctions) AND *",
    "column filter": "text:Putin passages_fts:*",
    "unbalanced quotes": '"Putin said "" troops',
    "control characters": "Putin\x00\x07\x1b[31m troops\r\n\t",
    "emoji": "🇺🇦 Ukraine 🎙️ troops 🚀",
    "right to left": "\u202eniptuP\u202c مرحبا Putin שלום",
    "only stopwords": "what did they say about it",
}

SEED_DOCS = {"2021-12-30-background-press-call-biden-putin", "2022-02-12-background-press-call-biden-putin"}
# How many of the 3 asked for each finds: 3, but where a quoted phrase must be in the passage ("x" is in
# none of the seeds' 18, "Putin said" in one).
FOUND = {name: 3 for name in ANSWERED} | {"sql in quotes": 0, "unbalanced quotes": 1}

REFUSED = {
    "empty": (["search", ""], "the question is empty"),
    "spaces": (["search", "   \t  "], "the question is empty"),
    "no words": (["search", "?! -- *"], "the question has no words to search for"),
    "since after until": (["search", "Putin", "--since", "2022-03", "--until", "2021-01"],
                          "--since 2022-03-01 is after --until 2021-01-31; swap them"),
    "impossible day": (["search", "Putin", "--since", "2022-02-30"], "--since '2022-02-30' is not a date"),
    "month 13": (["search", "Putin", "--until", "2022-13"], "--until '2022-13' is not a date"),
    "year 99999": (["search", "Putin", "--since", "99999-01-01"], "--since '99999-01-01' is not a date"),
    "unknown speaker": (["search", "Putin", "--speaker", "Nobody Atall"], "no speaker named 'Nobody Atall'"),
    "sql speaker": (["search", "Putin", "--speaker", "x' OR '1'='1"], "no speaker named \"x' OR '1'='1\""),
    "unknown kind": (["search", "Putin", "--kind", "memo'; --"], "unknown kind \"memo'; --\""),
    "100,001 characters": (["search", "x" * 100_001],
                           "the question is 100,001 characters; the limit is 100,000 (only the first 2,000 are "
                           "searched): shorten it"),
    "arabic-indic digits": (["search", "Putin", "--since", "٢٠٢٢-٠٣"],
                            "--since '٢٠٢٢-٠٣' is not a date; use YYYY-MM-DD, YYYY-MM or YYYY (digits 0-9"),
    "arabic-indic year": (["search", "Putin", "--until", "٢٠٢٢"], "--until '٢٠٢٢' is not a date"),
    "a range": (["search", "Putin", "--since", "2022-02-10/2022-02-20"],
                "is a range; give each end its own bound: --since '2022-02-10' --until '2022-02-20'"),
    # click's own errors: one line too, not its usage block.
    "unknown option": (["search", "Putin", "--sincee", "2022"],
                       "error: No such option '--sincee'. (Did you mean one of: '--index', '--since'?); see: main search --help"),
    "k not a number": (["search", "Putin", "-k", "2.5"], "Invalid value for '-k': '2.5' is not a valid integer"),
    "k too large": (["search", "Putin", "-k", str(10**18)], "Invalid value for '-k': 1000000000000000000 is not in "
                                                           "the range 1<=x<=1000"),
    "per-doc negative": (["search", "Putin", "--per-doc", "-1"], "Invalid value for '--per-doc': -1 is not in"),
    "unknown mode": (["search", "Putin", "--mode", "fuzzy"], "Invalid value for '--mode': 'fuzzy' is not one of"),
    "no paths to build": (["build"], "error: Missing argument 'PATHS...'; see: main build --help"),
    "unknown command": (["serch", "Putin"], "error: No such command 'serch'"),
}


def run(index_dir, args):
    return CliRunner().invoke(main, [*args, "--index", str(index_dir)])


@pytest.mark.parametrize("name", ANSWERED)
def test_odd_questions_are_answered_as_words(seeds_dir, name):
    result = run(seeds_dir, ["search", ANSWERED[name], "--json", "-k", "3"])

    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["query"] == ANSWERED[name]
    assert [r["rank"] for r in payload["results"]] == list(range(1, FOUND[name] + 1))
    assert all(r["doc_id"] in SEED_DOCS and r["passage_id"].startswith(r["doc_id"] + "#") for r in payload["results"])
    scores = [r["score"] for r in payload["results"]]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize("name", REFUSED)
def test_unusable_requests_get_one_error_line(seeds_dir, name):
    args, message = REFUSED[name]

    result = run(seeds_dir, args)

    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: ")
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_help_still_prints_the_usage(seeds_dir):
    result = CliRunner().invoke(main, ["search", "--help"])

    assert result.exit_code == 0 and result.stdout.startswith("Usage: main search [OPTIONS] [QUESTION]")
    assert "--since TEXT" in result.stdout and result.stderr == ""


@pytest.mark.parametrize("name", ["sql", "sql in quotes"])
def test_nothing_a_question_says_reaches_the_database_as_sql(seeds_dir, name):
    """The question reaches SQLite only as a bound parameter, its words quoted for MATCH: no statement the
    search runs holds the question's text, and the words are searched like any others."""
    index = Index.open(seeds_dir)
    statements = []
    index.db.set_trace_callback(statements.append)

    index.search(ANSWERED[name], k=3, mode="keyword")
    index.db.set_trace_callback(None)

    ours = [s for s in statements if not s.startswith("--")]  # "--": the statements FTS5 runs inside
    assert ours and all(s.startswith(("SELECT ", "CREATE VIRTUAL TABLE IF NOT EXISTS temp.")) for s in ours)
    assert not any(ANSWERED[name] in s or "DROP" in s or "DELETE" in s for s in statements)
    result = run(seeds_dir, ["search", ANSWERED[name], "--mode", "keyword", "--json"])
    assert result.exit_code == 0, result.output
    stats = json.loads(run(seeds_dir, ["stats", "--json"]).stdout)
    assert (stats["documents"], stats["passages"]) == (2, 16)


@pytest.mark.parametrize("mode", ["keyword", "dense", "hybrid"])
def test_a_100_kb_question_is_cut_not_refused(seeds_dir, mode):
    result = run(seeds_dir, ["search", ANSWERED["100 kB"], "--mode", mode, "--json", "-k", "2"])

    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)["results"]) == 2
