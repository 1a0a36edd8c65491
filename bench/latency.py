"""search(k=10) time, plain hybrid vs the default, on an eval index: python bench/latency.py INDEX"""
import statistics, time, sys
from indexer.evaluation import cases
from indexer.search import Index
from indexer.search.ranking import PLAIN, DEFAULT_TUNING
ix = Index.open(sys.argv[1])
corpus = sorted(str(p) for p in (cases.CORPUS_ROOT / "press-briefings").glob("2022-*"))
qs = [c.query for c in cases.sample_pairs(ix, corpus, 200, 1)] + [c.query for c in cases.dev_cases(ix, cases.read_devset())]
ix.search("warm up", k=10)
for name, tuning in (("hybrid", PLAIN), ("default", DEFAULT_TUNING), ("hybrid", PLAIN), ("default", DEFAULT_TUNING)):
    ix._question_vectors.clear()
    times = []
    for q in qs:
        t = time.perf_counter(); ix.search(q, k=10, tuning=tuning); times.append(1000 * (time.perf_counter() - t))
    times.sort()
    print(name, "n", len(times), "p50 %.1f ms p95 %.1f ms" % (statistics.median(times), times[int(0.95 * (len(times) - 1))]), flush=True)
