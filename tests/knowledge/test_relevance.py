"""Relevance on the real FlashInfer + QuACK corpora must not fall below the committed baseline."""

import json

import pytest

from kernelpilot.knowledge.evaluate import evaluate, load_questions, ndcg
from kernelpilot.knowledge.index import Index, update_index
from kernelpilot.knowledge.ingest import ingest_jsonl
from kernelpilot.knowledge.layout import data_root
from kernelpilot.knowledge.validate import validate_corpus


def test_ndcg_of_perfect_and_empty_rankings():
    assert ndcg(["a", "b"], {"a", "b"}, 10) == pytest.approx(1.0)
    assert ndcg(["x", "y"], {"a"}, 10) == 0.0
    assert 0 < ndcg(["x", "a"], {"a"}, 10) < 1


@pytest.fixture(scope="module")
def real_corpus(shared_dir, authored, tmp_path_factory):
    root = data_root(tmp_path_factory.mktemp("real") / "corpus")
    for name in ("flashinfer-ai__flashinfer.prs.jsonl", "Dao-AILab__quack.prs.jsonl"):
        ingest_jsonl(root, shared_dir / "knowledge" / name)
    update_index(root, authored)
    return root


def test_question_set_is_large_enough(authored):
    questions = load_questions(authored.eval / "questions.yaml")
    assert len(questions) >= 25


def test_relevance_does_not_regress(real_corpus, authored):
    baseline = json.loads((authored.eval / "baseline.json").read_text())
    with Index(real_corpus) as index:
        result = evaluate(index, load_questions(authored.eval / "questions.yaml"), k=baseline["k"])
    assert result["recall"] >= baseline["recall"] - 1e-6, result
    assert result["ndcg"] >= baseline["ndcg"] - 1e-6, result


def test_every_wiki_source_resolves_in_the_real_corpus(real_corpus, authored):
    result = validate_corpus(real_corpus, authored, strict=True)
    assert result.problems == [] and result.warnings == []
    assert result.checked["wiki_pages"] >= 30
