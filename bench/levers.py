"""Score many tunings on one eval index (figures of docs/quality.md): python bench/levers.py INDEX N NAME=FIELD:VALUE,... [--seed S]"""
import argparse
from dataclasses import replace
from indexer.evaluation import cases, runs
from indexer.search import Index
from indexer.search.ranking import PLAIN

parser = argparse.ArgumentParser()
parser.add_argument("index")
parser.add_argument("n", type=int)
parser.add_argument("specs", nargs="*")
parser.add_argument("--seed", type=int, default=0, help="the pairs' sample (the standing run's is 0)")
args = parser.parse_intermixed_args()
ix = Index.open(args.index)
runs.check_no_leakage(ix)
corpus = sorted(str(p) for p in (cases.CORPUS_ROOT / "press-briefings").glob("2022-*"))
pairs = cases.sample_pairs(ix, corpus, args.n, args.seed)
dev = cases.dev_cases(ix, cases.read_devset())
print("pairs", len(pairs), "dev", len(dev), "unmatched", sum(len(c.unmatched) for c in dev), "no relevant", [c.id for c in dev if not c.relevant], flush=True)
for spec in args.specs:
    name, _, fields = spec.partition("=")
    mode = "hybrid"; per_doc = None
    kw = {}
    for f in filter(None, fields.split(",")):
        k, v = f.split(":")
        if k == "mode": mode = v; continue
        if k == "per_doc": per_doc = int(v); continue
        kw[k] = type(getattr(PLAIN, k))(v) if k != "clean_query" else v == "1"
    t = replace(PLAIN, **kw)
    a = runs.run_config(ix, pairs, mode, t, dev=False, per_doc=per_doc)
    d = runs.run_config(ix, dev, mode, t, dev=True, per_doc=per_doc)
    m, dm = a.metrics, d.metrics
    print(f"{name:24} auto mrr {m['mrr@10']:.4f} ndcg {m['ndcg@10']:.4f} r1 {m['recall@1']:.4f} r10 {m['recall@10']:.4f} r100 {m['recall@100']:.4f} p50 {a.median_ms}ms p95 {a.p95_ms}ms | dev h1 {dm['hit@1']:.4f} h10 {dm['hit@10']:.4f} mrr {dm['mrr@10']:.4f} nonans {d.non_answers_at_10:.4f} | {fields}", flush=True)
