"""Bad input to search, through the CLI: a clear answer or one `error:` line, never a traceback or an executed query."""

import json

import pytest
from click.testing import CliRunner

from indexer import store
from indexer.cli import main

pytest_plugins = ["index_fixtures"]

ANSWERED = {
    "100 kB": "Ukraine sanctions " * 5600,
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
}


def run(index_dir, args):
    return CliRunner().invoke(main, [*args, "--index", str(index_dir)])


@pytest.mark.parametrize("name", ANSWERED)
def test_odd_questions_are_answered_as_words(seeds_dir, name):
    result = run(seeds_dir, ["search", ANSWERED[name], "--json", "-k", "3"])

    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["query"] == ANSWERED[name]
    assert all(r["doc_id"].endswith("biden-putin") for r in payload["results"])


@pytest.mark.parametrize("name", REFUSED)
def test_unusable_requests_get_one_error_line(seeds_dir, name):
    args, message = REFUSED[name]

    result = run(seeds_dir, args)

    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: ")
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_nothing_a_question_says_reaches_the_database_as_sql(seeds_dir):
    for name in ("sql", "sql in quotes"):
        run(seeds_dir, ["search", ANSWERED[name], "--mode", "keyword"])

    version, checks = store.check_index(seeds_dir)
    assert not any(check.damaged for check in checks)
    stats = json.loads(run(seeds_dir, ["stats", "--json"]).stdout)
    assert (stats["documents"], stats["passages"]) == (2, 18)


@pytest.mark.parametrize("mode", ["keyword", "dense", "hybrid"])
def test_a_100_kb_question_is_cut_not_refused(seeds_dir, mode):
    result = run(seeds_dir, ["search", ANSWERED["100 kB"], "--mode", mode, "--json", "-k", "2"])

    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)["results"]) == 2
