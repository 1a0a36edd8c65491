"""Train the briefings adapter (indexer/embedding/adapter.py) on the corpus's own reporter question -> answer pairs.

The pairs come from an index of the press briefings (bench/throughput.py
builds one at /tmp/bench/pb-index), leaving out every briefing of the
held-out year (2022: the eval's slice). A question is cleaned as the default
search cleans it; its answer is one passage of the answer that followed it.
Only low-rank changes (LoRA) to the transformer's linear layers are trained;
questions and answers both go through the adapted model, with an in-batch
softmax loss (each question against the batch's answers). The forward pass
runs in bfloat16 (autocast), about twice as fast as fp32 on this CPU with the
same losses to two decimals.

The shipped adapter was first trained on all 21,403 training pairs left once
the non-answers are out (seed-1 order), one epoch, in-batch negatives only, on
the 2 cores in about 35 minutes:

    .venv/bin/python bench/train_adapter.py --out /tmp/adapter-1.safetensors

and then continued twice on 6,000 pairs each (the first 6,000 of the 21,622
that an index of today's passages gives from the same 846 documents, then the
next 6,000), with a hard negative added for every question: another answer of
the same briefing (`--hard-negatives`), lr 2e-4, about 17-20 minutes a run.
(Those runs could, rarely, draw as a question's hard negative the answer of
another question of the same briefing in the same batch; the script now
leaves every answer of the batch out of the draw.)

    .venv/bin/python bench/train_adapter.py --index INDEX --init /tmp/adapter-1.safetensors \
        --pairs 6000 --lr 2e-4 --hard-negatives --out /tmp/adapter-2.safetensors
    .venv/bin/python bench/train_adapter.py --index INDEX --init /tmp/adapter-2.safetensors \
        --skip 6000 --pairs 6000 --lr 2e-4 --hard-negatives --out indexer/data/briefings-adapter.safetensors

Its check is the eval (`python -m indexer eval`), which embeds the 2022
passages with it; the eval falls back to the plain model for a question set
whose answers lie in a training document.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from indexer.embedding import adapter  # noqa: E402
from indexer.embedding.embedder import BASE_MODEL, model_folder  # noqa: E402
from indexer.search import Index  # noqa: E402
from indexer.search.question import parse_question  # noqa: E402
from indexer.search.ranking import DEFAULT_TUNING, is_non_answer  # noqa: E402

MIN_WORDS = 6
BATCH = 64
QUESTION_TOKENS = 128
SCALE = 20.0
WARMUP = 50
PASSAGE_TOKENS = 256  # the model's max_seq_length: passages are embedded whole, as the index does
TARGETS = ("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense",
           "intermediate.dense", "output.dense")


def pairs(index: Index, held_out: str) -> tuple[list[tuple[str, str]], dict]:
    """(training keys in seed-1 order, their answers' passage rows): a key is (doc_id, question).

    Non-answers ("Yep.", "Go ahead.", "I'd refer you to DoD") are left out, and so is a question
    with nothing else after it: a third of the pairs, which would teach the model that a
    question's nearest passage is a short reply."""
    train = {}
    for row, doc, question, date, text in index.db.execute(
            "SELECT id, doc_id, question, date, text FROM passages WHERE question IS NOT NULL ORDER BY id"):
        if len(question.split()) >= MIN_WORDS and not date.startswith(held_out) and not is_non_answer(text):
            train.setdefault((doc, question), []).append(row)
    keys = sorted(train)
    random.Random(1).shuffle(keys)
    return keys, train


class LoRA(torch.nn.Module):
    """Wraps a frozen nn.Linear: y = base(x) + (x A^T) B^T, with B starting at zero."""

    def __init__(self, linear, rank: int):
        super().__init__()
        self.base = linear
        self.A = torch.nn.Parameter(torch.randn(rank, linear.in_features) / math.sqrt(linear.in_features))
        self.B = torch.nn.Parameter(torch.zeros(linear.out_features, rank))

    def forward(self, x):
        return self.base(x) + (x @ self.A.T) @ self.B.T


def adapted_model(rank: int, init: Path | None):
    from transformers import AutoModel, AutoTokenizer

    folder = model_folder(BASE_MODEL)
    tokenizer, model = AutoTokenizer.from_pretrained(folder), AutoModel.from_pretrained(folder)
    model.eval()
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    for layer in model.encoder.layer:
        for target in TARGETS:
            parent_name, attr = target.rsplit(".", 1)
            parent = layer.get_submodule(parent_name)
            setattr(parent, attr, LoRA(getattr(parent, attr), rank))
    if init:
        from safetensors.torch import load_file

        model.load_state_dict({k: v.float() for k, v in load_file(str(init)).items()}, strict=False)
    return tokenizer, model


def embed(tokenizer, model, texts: list[str], max_tokens: int):
    encoded = tokenizer(texts, padding=True, truncation=True, max_length=max_tokens, return_tensors="pt")
    hidden = model(**encoded).last_hidden_state
    mask = encoded["attention_mask"].unsqueeze(-1).float()
    return torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=1)


def same_briefing_negatives(train_rows: dict) -> dict:
    """doc_id -> the rows of its substantive answers, for a hard negative: another answer of the same briefing."""
    by_document: dict[str, list[int]] = {}
    for (doc, _), rows in train_rows.items():
        by_document.setdefault(doc, []).extend(rows)
    return by_document


def hard_negative(rows_of_document: list[int], answers_in_batch: set[int], rng: random.Random) -> int | None:
    """Another answer of the briefing, never one of the batch's answers (it would be some question's positive)."""
    others = [row for row in rows_of_document if row not in answers_in_batch]
    return rng.choice(others) if others else None


def passage_text(index: Index, row: int) -> str:
    return index.db.execute("SELECT text FROM passages WHERE id = ?", (row,)).fetchone()[0]


def train(args) -> None:
    from safetensors.torch import save_file

    torch.manual_seed(0)
    np.random.seed(0)
    torch.set_num_threads(2)
    index = Index.open(args.index)
    keys, train_rows = pairs(index, args.held_out)
    chosen = keys[args.skip: args.skip + args.pairs] if args.pairs else keys[args.skip:]
    clean = lambda question: parse_question(question, DEFAULT_TUNING.clean_query).text.replace("\n", " ")  # noqa: E731
    texts = [clean(q) for _, q in chosen]
    answers = [train_rows[key] for key in chosen]
    tokenizer, model = adapted_model(args.rank, args.init)
    print(f"{len(texts)} training pairs", flush=True)
    parameters = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(parameters, lr=args.lr, weight_decay=0.0)
    steps = math.ceil(len(texts) / BATCH)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min(1.0, (s + 1) / WARMUP) * max(0.0, 1 - s / steps))
    lengths = np.array([len(ids) for ids in tokenizer(texts)["input_ids"]]) + np.random.rand(len(texts))
    order = np.argsort(lengths)
    batches = [order[s:s + BATCH] for s in range(0, len(texts), BATCH)]  # similar lengths: little padding
    np.random.shuffle(batches)
    negatives_of = same_briefing_negatives(train_rows) if args.hard_negatives else {}
    rng = random.Random(0)
    started = time.time()
    for step, rows in enumerate(batches, 1):
        targets = [answers[i][np.random.randint(len(answers[i]))] for i in rows]
        if args.hard_negatives:
            in_batch = {row for i in rows for row in answers[i]}
            found = (hard_negative(negatives_of[chosen[i][0]], in_batch, rng) for i in rows)
            targets += [row for row in found if row is not None]
        with torch.autocast("cpu", dtype=torch.bfloat16):
            questions = embed(tokenizer, model, [texts[i] for i in rows], QUESTION_TOKENS).float()
            candidates = embed(tokenizer, model, [passage_text(index, r) for r in targets], PASSAGE_TOKENS).float()
        loss = torch.nn.functional.cross_entropy(SCALE * questions @ candidates.T, torch.arange(len(rows)))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
        if step % args.report == 0:
            print(f"step {step}/{steps} loss {loss.item():.3f} {time.time() - started:.0f} s", flush=True)
    documents = {doc for doc, _ in keys}  # the whole training split, whatever --skip/--pairs took
    if args.init:
        documents |= set(adapter.metadata_of(args.init).get("documents", []))
    documents = sorted(documents)
    changes = {name: p.detach().to(torch.float16).contiguous() for name, p in model.named_parameters()
               if p.requires_grad}
    meta = {"base_model": "all-MiniLM-L6-v2", "rank": args.rank, "held_out": args.held_out,
            "pairs": len(texts), "index": str(args.index), "documents": documents,
            "hard_negatives": args.hard_negatives, "init": adapter.name_of(args.init) if args.init else None}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    save_file(changes, str(args.out), metadata={k: json.dumps(v) for k, v in meta.items()})
    print(f"wrote {args.out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, default=Path("/tmp/bench/pb-index"), help="press-briefings index")
    parser.add_argument("--held-out", default="2022", help="leave out every briefing dated in this year")
    parser.add_argument("--skip", type=int, default=0, help="start at this training pair (seed-1 order)")
    parser.add_argument("--pairs", type=int, default=0, help="how many pairs (0: all after --skip)")
    parser.add_argument("--rank", type=int, default=8)
    parser.add_argument("--lr", type=float, default=5e-4)
    parser.add_argument("--init", type=Path, help="continue from this adapter file")
    parser.add_argument("--hard-negatives", action="store_true",
                        help="add to each batch one other answer of each question's briefing")
    parser.add_argument("--report", type=int, default=25, help="print the loss every this many steps")
    parser.add_argument("--out", type=Path, required=True)
    train(parser.parse_args())


if __name__ == "__main__":
    main()
