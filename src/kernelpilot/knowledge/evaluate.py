"""Relevance evaluation: recall@k and nDCG@k of `query` over a committed question set."""

from __future__ import annotations

import math
from pathlib import Path

from kernelpilot.knowledge.index import Index
from kernelpilot.knowledge.layout import read_checked_yaml


def load_questions(path: Path) -> list[dict]:
    return read_checked_yaml(path, "knowledge-eval")["questions"]


def ndcg(ranked: list[str], relevant: set[str], k: int) -> float:
    gain = sum(1 / math.log2(rank + 2) for rank, doc in enumerate(ranked[:k]) if doc in relevant)
    ideal = sum(1 / math.log2(rank + 2) for rank in range(min(k, len(relevant))))
    return gain / ideal


def evaluate(index: Index, questions: list[dict], k: int = 10) -> dict:
    rows = []
    for question in questions:
        relevant = set(question["relevant"])
        ranked = [hit["id"] for hit in index.search(question["question"], limit=k)]
        found = relevant & set(ranked)
        rows.append({"question": question["question"], "recall": len(found) / len(relevant),
                     "ndcg": ndcg(ranked, relevant, k), "missing": sorted(relevant - found)})
    count = len(rows) or 1
    return {"k": k, "questions": len(rows),
            "recall": round(sum(r["recall"] for r in rows) / count, 4),
            "ndcg": round(sum(r["ndcg"] for r in rows) / count, 4), "per_question": rows}
