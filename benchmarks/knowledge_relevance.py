"""Relevance of `kernelpilot knowledge query` on the committed evaluation set (knowledge/eval/questions.yaml).

Builds a corpus from the real FlashInfer and QuACK PR corpora (../shared/knowledge, or --shared) plus the
authored wiki in a temporary folder (or uses --root), then PRINTS recall@10 and nDCG@10 and the questions
that miss. --write-baseline records the figures in knowledge/eval/baseline.json, which a test enforces.

    PYTHONPATH=src python benchmarks/knowledge_relevance.py [--root DIR] [--shared DIR] [--write-baseline]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from kernelpilot.fsutil import atomic_write_json
from kernelpilot.knowledge.evaluate import evaluate, load_questions
from kernelpilot.knowledge.index import Index, update_index
from kernelpilot.knowledge.ingest import ingest_jsonl
from kernelpilot.knowledge.layout import authored_dir, data_root

CORPORA = ("flashinfer-ai__flashinfer.prs.jsonl", "Dao-AILab__quack.prs.jsonl")


def build(root_path: Path, shared: Path) -> None:
    root = data_root(root_path)
    for name in CORPORA:
        ingest_jsonl(root, shared / "knowledge" / name)
    update_index(root, authored_dir())


def main() -> int:
    repo = Path(__file__).resolve().parents[1]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, help="an already built corpus (default: build one in a temp folder)")
    parser.add_argument("--shared", type=Path, default=repo.parent / "shared")
    parser.add_argument("--write-baseline", action="store_true")
    args = parser.parse_args()
    authored = authored_dir()
    with tempfile.TemporaryDirectory() as scratch:
        root_path = args.root or Path(scratch)
        if not args.root:
            build(root_path, args.shared)
        with Index(data_root(root_path)) as index:
            result = evaluate(index, load_questions(authored.eval / "questions.yaml"))
    for row in result["per_question"]:
        if row["missing"]:
            print(f"recall {row['recall']:.2f}  {row['question']}\n    missing: {', '.join(row['missing'])}")
    print(f"questions: {result['questions']}  recall@{result['k']}: {result['recall']:.4f}  "
          f"nDCG@{result['k']}: {result['ndcg']:.4f}")
    if args.write_baseline:
        atomic_write_json(authored.eval / "baseline.json",
                          {"k": result["k"], "recall": result["recall"], "ndcg": result["ndcg"]})
        print(f"wrote {authored.eval / 'baseline.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
