"""The shared questions (../shared/questions): what people ask, scored the way their own scorer scores them.

hit@1, hit@10 and MRR@10 over the answerable questions, overall, by kind, and
split by whether the adapted model trained on the answer's briefing ("seen")
or not ("unseen": how Podium will do on tomorrow's briefings); and how often
`no_close_match` is raised for the `none` questions and for the others.
Every configuration runs on its own model here: the split, not a fallback to
the plain model, says what training on the corpus is worth.
"""

from __future__ import annotations

import statistics
from collections import defaultdict

from ..embedding import adapter
from ..search import Index
from ..search.ranking import Tuning
from .cases import Case, answer_documents
from .metrics import dev_metrics, mean_metrics


def run_shared(index: Index, cases: list[Case], mode: str, tuning: Tuning) -> dict:
    """Every shared question searched with one configuration, 10 results deep."""
    trained = adapter.trained_documents()
    groups: dict[str, list[dict]] = defaultdict(list)
    raised: dict[str, list[bool]] = defaultdict(list)
    for case in cases:
        found = index.search(case.query, k=10, mode=mode, tuning=tuning)
        raised["none" if case.kind == "none" else "answerable"].append(found.no_close_match)
        if case.kind == "none":
            continue
        metrics = dev_metrics([r.passage_id for r in found], case.relevant)
        seen = "seen" if answer_documents([case]) & trained else "unseen"
        for group in ("all", f"kind {case.kind}", seen):
            groups[group].append(metrics)
    report = {**mean_metrics(groups.pop("all", [])), "questions": sum(len(r) for r in raised.values())}
    report["by_kind"] = {group.removeprefix("kind "): _counted(rows) for group, rows in sorted(groups.items())
                         if group.startswith("kind ")}
    report["by_training"] = {group: _counted(rows) for group, rows in groups.items() if not group.startswith("kind ")}
    report["no_close_match"] = {group: round(statistics.fmean(flags), 4) for group, flags in raised.items()}
    return report


def _counted(rows: list[dict]) -> dict:
    return {**mean_metrics(rows), "questions": len(rows), "hits@10": int(sum(r["hit@10"] for r in rows))}


def readable_shared(results: dict) -> list[str]:
    """The shared set's lines of the eval's readable report."""
    lines = ["", f"shared questions{'':4}{'hit@1':>7}{'hit@10':>8}{'MRR@10':>8}  no_close_match none / answerable"]
    for name, result in results.items():
        shared = result["shared"]
        flags = shared["no_close_match"]
        lines.append(f"{name:20}{shared['hit@1']:>7.3f}{shared['hit@10']:>8.3f}{shared['mrr@10']:>8.3f}  "
                     f"{flags.get('none', 0):.2f} / {flags.get('answerable', 0):.2f}")
    default = results.get("default", {}).get("shared")
    if default:
        kinds = ", ".join(f"{k} {v['hits@10']}/{v['questions']}" for k, v in default["by_kind"].items())
        training = ", ".join(f"{k} hit@10 {v['hit@10']:.3f} MRR@10 {v['mrr@10']:.3f} ({v['questions']})"
                             for k, v in sorted(default["by_training"].items()))
        lines += [f"default by kind (hit@10): {kinds}", f"default by the adapter's training: {training}"]
    return lines
