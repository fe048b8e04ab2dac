import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from kernelpilot.errors import KernelPilotError
from kernelpilot.knowledge.catalog import load_catalog
from kernelpilot.knowledge.infer import load_inferrer, split_diff
from kernelpilot.knowledge.pages import term_problems
from kernelpilot.knowledge.vocab import build_vocabulary, load_vocabulary

SCHEMAS = Path(__file__).resolve().parents[2] / "src" / "kernelpilot" / "schemas"


def test_every_knowledge_schema_is_a_valid_json_schema():
    names = sorted(SCHEMAS.glob("knowledge-*.schema.json"))
    assert len(names) >= 10
    for path in names:
        Draft202012Validator.check_schema(json.loads(path.read_text()))


def test_shipped_data_files_load_and_agree(authored):
    vocabulary = load_vocabulary(authored.data)
    assert vocabulary.facet_of_term["sm100"] == "architectures"
    assert load_catalog(authored.data).rules_for("flashinfer-ai/flashinfer").is_kernel_path("csrc/norm.cu")
    assert load_inferrer(authored.data).rules


@pytest.mark.parametrize("alias, term", [("Blackwell", "sm100"), ("B200", "sm100"), ("UMMA", "tcgen05"),
                                         ("FP4", "nvfp4"), ("hopper", "sm90"), ("tcgen05.mma", "tcgen05"),
                                         ("warp_issue_stalled_long_scoreboard", "long-scoreboard-stalls")])
def test_aliases_resolve_to_terms(authored, alias, term):
    assert load_vocabulary(authored.data).canonical(alias) == term


def test_vocabulary_enforcement_names_each_problem(authored):
    vocabulary = load_vocabulary(authored.data)
    page = {"architectures": ["sm100", "blackwell", "tma"], "tags": ["not-a-term"]}
    problems = term_problems(page, vocabulary, "page.md")
    assert any("'blackwell' is an alias; write 'sm100'" in p for p in problems)
    assert any("'tma' belongs in hardware_features" in p for p in problems)
    assert any("'not-a-term' is not in the vocabulary" in p for p in problems)
    assert len(problems) == 3


def test_alias_data_is_checked_for_conflicts():
    tags = {"facets": {"architectures": {"sm90": "Hopper", "sm100": "Blackwell"}}}
    with pytest.raises(KernelPilotError, match="not a vocabulary term"):
        build_vocabulary(tags, {"terms": {"sm999": ["x"]}}, "aliases.yaml")
    with pytest.raises(KernelPilotError, match="already names"):
        build_vocabulary(tags, {"terms": {"sm90": ["gpu"], "sm100": ["gpu"]}}, "aliases.yaml")


def test_inference_from_title_paths_and_diff(authored):
    inferrer = load_inferrer(authored.data)
    terms = inferrer.infer("perf: tcgen05 GEMM for B200", "", ["csrc/gemm_sm100.cu"])
    assert {"sm100", "tcgen05", "gemm", "performance", "cuda"} <= terms
    diff = ("diff --git a/ops/norm.py b/ops/norm.py\n+import triton\n+@triton.jit\n+def k(x):\n"
            "diff --git a/csrc/attn.cu b/csrc/attn.cu\n+  asm volatile(\"wgmma.mma_async.sync.aligned...\");\n")
    terms = inferrer.infer("Speed up the norm", "", ["ops/norm.py", "csrc/attn.cu"], split_diff(diff))
    assert {"triton", "python", "cuda", "ptx", "wgmma", "sm90"} <= terms
    assert "sm100" not in terms


def test_inference_leaves_unrelated_prs_untagged(authored):
    terms = load_inferrer(authored.data).infer("Update README badges", "", ["README.md"])
    assert not terms & {"sm90", "sm100", "gemm", "attention", "tma"}


def test_split_diff_keys_chunks_by_new_path():
    diff = "diff --git a/x.cu b/x.cu\n+a\ndiff --git a/old.py b/new.py\n+b\n"
    chunks = split_diff(diff)
    assert list(chunks) == ["x.cu", "new.py"]
    assert chunks["new.py"].endswith("+b\n")
