"""`build --engine ray`: the same files read and embedded in Ray Data give the index the plain build writes.

Ray runs here in local mode on two CPUs, started once for the module (6-8 s);
the builds reuse it. Real transcripts, the real model and encoder.
"""

import logging
import sys

import pytest
import ray
from click.testing import CliRunner

from corpus_slices import SEED_FILES, background_calls_march
from index_contents import contents, vectors_of
from indexer.cli import main
from indexer.compute.ray_data import RayEngine
from indexer.index.build import build_index
from indexer.search import Index

CALLS = background_calls_march()[:4]
QUESTIONS = ("sanctions on Russia", "oil prices and gas", "what did the President tell Putin")


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def both_builds(tmp_path_factory, local_ray):
    """The seeds and four calls built here, and on Ray in steps: the seeds, the calls added, nothing new."""
    root = tmp_path_factory.mktemp("ray")
    everything = build_index([*SEED_FILES, *CALLS], root / "local", progress=False)
    with RayEngine() as engine:
        steps = [build_index(paths, root / "ray", progress=False, engine=engine)
                 for paths in (SEED_FILES, [*SEED_FILES, *CALLS], [*SEED_FILES, *CALLS])]
    return root / "local", root / "ray", everything, steps


def test_a_ray_build_writes_the_index_the_local_build_writes(both_builds):
    """Same rows, passage ids and vectors bit for bit (the encoder's vectors do not depend on batch mates)."""
    local, on_ray, _, _ = both_builds

    assert contents(on_ray) == contents(local)
    assert (vectors_of(on_ray) == vectors_of(local)).all()


def test_a_ray_build_answers_as_the_local_build_does(both_builds):
    local, on_ray, _, _ = both_builds
    here, there = Index.open(local), Index.open(on_ray)
    for question in QUESTIONS:
        expected = [(r.passage_id, round(r.score, 6)) for r in here.search(question, k=10)]
        assert [(r.passage_id, round(r.score, 6)) for r in there.search(question, k=10)] == expected
    here.close(), there.close()


def test_only_new_texts_go_to_ray(both_builds):
    """Adding the calls embeds only their texts; building again over the same files embeds nothing."""
    _, _, everything, (seeds, added, again) = both_builds

    assert added.documents_added == len(CALLS) and added.embedded == everything.embedded - seeds.embedded > 0
    assert added.reused >= seeds.embedded > 0
    assert (again.embedded, again.documents_kept) == (0, len(SEED_FILES) + len(CALLS))


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_the_cli_builds_on_ray(local_ray, tmp_path):
    result = run("build", CALLS[0], "--index", tmp_path / "index", "--engine", "ray")

    assert result.exit_code == 0, result.output
    assert "index " in result.output and "1 documents" in result.output


@pytest.mark.parametrize("args, message", [
    (["--engine", "ray", "--ray-address", "127.0.0.1:9"], "error: cannot reach the Ray cluster at 127.0.0.1:9 ("),
    (["--engine", "ray", "--ray-address", "somewhere"], "error: Ray address 'somewhere' is not HOST:PORT"),
    (["--ray-address", "127.0.0.1:6379"], "error: --ray-address runs the build on Ray: add --engine ray"),
])
def test_a_ray_that_cannot_run_is_one_error_and_no_index(tmp_path, args, message):
    result = run("build", CALLS[0], "--index", tmp_path / "index", *args)

    assert (result.exit_code, result.output.splitlines()[-1][: len(message)]) == (2, message)
    assert not (tmp_path / "index" / "current").exists()


def test_without_ray_installed_the_engine_is_one_error(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)
    monkeypatch.delitem(sys.modules, "indexer.compute.ray_data")
    result = run("build", CALLS[0], "--index", tmp_path / "index", "--engine", "ray")

    assert result.exit_code == 2
    assert result.output.startswith("error: ray is not importable here (")
    assert "pip install 'ray[data]>=2.60,<3'" in result.output
