"""The web app under many browser sessions at once keeps answering every one (bench/app_load.py).

The default run has 5 sessions ask 2 questions each over the seeds index;
`pytest -m slow` has 20 sessions ask 3 each. The figures over the full
press-briefings index are in docs/benchmarks.md.
"""

import pytest

from bench import app_load
from bench.serve import CHROMIUM

pytest_plugins = ["index_fixtures"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM}; .ci/run installs it"),
]


def assert_every_session_answered(result: dict, sessions: int, rounds: int) -> None:
    assert result["errors"] == []
    assert result["searches"] == result["answered"] == sessions * rounds
    assert 0 < result["time_to_results_s"]["median"] <= result["time_to_results_s"]["p95"]


def test_5_sessions_at_once_all_get_answers(seeds_dir):
    assert_every_session_answered(app_load.run(seeds_dir, sessions=5, rounds=2), 5, 2)


@pytest.mark.slow
def test_20_sessions_at_once_all_get_answers(seeds_dir):
    result = app_load.run(seeds_dir, sessions=20, rounds=3)
    print(f"\n20 sessions: {result}")
    assert_every_session_answered(result, 20, 3)
