"""Performance of the knowledge index on a 10,000-page generated corpus plus the real FlashInfer corpus.

PRINTS: the machine (CPU, cores, Python, SQLite), corpus generation time, full index build, query p50/p99 (each query opens the index, as the CLI
does), incremental rebuild after one new page, validate, and a cold CLI query. Targets (issue 7):
p50 <= 30 ms, p99 <= 150 ms, build <= 60 s, incremental <= 1 s, validate <= 10 s.

    PYTHONPATH=src python benchmarks/knowledge_bench.py [--pages 10000] [--shared ../shared] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from kernelpilot import machine
from kernelpilot.knowledge.index import Filters, Index, update_index
from kernelpilot.knowledge.ingest import ingest_jsonl
from kernelpilot.knowledge.layout import authored_dir, data_root
from kernelpilot.knowledge.validate import validate_corpus

WORDS = """kernel gemm attention decode prefill rmsnorm layernorm rope moe routing topk sampling softmax fp8 nvfp4
mxfp4 bf16 tma wgmma tcgen05 tmem cluster dsmem pdl persistent split-k split-kv pipeline stages swizzle epilogue
fused quantize dequantize scale register spill occupancy bank conflict tail wave launch overhead graph warp
specialized producer consumer mbarrier latency bandwidth throughput hopper blackwell sm90 sm100 sm120 cutlass
cute triton cuda ptx autotune tile scheduler stream-k reduction allreduce paged cache mla gqa""".split()
IDENTIFIERS = ["tcgen05.mma", "warp_issue_stalled_long_scoreboard", "cp.async.bulk.tensor", "setmaxnreg",
               "griddepcontrol.wait", "ldmatrix", "__launch_bounds__", "mbarrier.try_wait"]
PATHS = ["csrc/gemm/{w}_sm100.cu", "include/flashinfer/{w}.cuh", "flashinfer/{w}.py", "csrc/{w}_kernel.cu",
         "quack/{w}.py", "tests/test_{w}.py", "docs/{w}.md"]
QUERIES = ["register spills", "tcgen05.mma", "warp_issue_stalled", "blackwell fp4 gemm", "long scoreboard stalls",
           "split-k small batch", "PDL", "bank conflicts swizzle", "persistent kernel tail effect",
           "why is my rmsnorm slow", "tma multicast cluster", "hopper wgmma pipeline stages", "cuda graph overhead",
           "decode attention idle SMs", "nvfp4 quantization scale factor layout", "moe routing topk"]


def generate_jsonl(path: Path, pages: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    with open(path, "w") as out:
        for number in range(1, pages + 1):
            title = " ".join(rng.choices(WORDS, k=rng.randint(4, 9)))
            body = " ".join(rng.choices(WORDS, k=rng.randint(40, 220)) + rng.choices(IDENTIFIERS, k=2))
            files = [{"path": rng.choice(PATHS).format(w=rng.choice(WORDS)), "added": rng.randint(0, 300),
                      "deleted": rng.randint(0, 100)} for _ in range(rng.randint(1, 6))]
            record = {"repo": "bench-org/synthetic", "number": number, "sha": f"{rng.getrandbits(160):040x}",
                      "merged_at": f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T12:00:00Z",
                      "title": title, "body": body, "files": files}
            out.write(json.dumps(record) + "\n")


def timed(function, *args, **kwargs):
    started = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - started


def main() -> int:
    repo = Path(__file__).resolve().parents[1]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=10_000)
    parser.add_argument("--shared", type=Path, default=repo.parent / "shared")
    parser.add_argument("--keep", type=Path, help="build the corpus here and keep it")
    parser.add_argument("--queries", type=int, default=400)
    args = parser.parse_args()
    print(machine.header("benchmarks/knowledge_bench.py", f"SQLite {sqlite3.sqlite_version}"))
    with tempfile.TemporaryDirectory() as scratch:
        root = data_root(args.keep or Path(scratch) / "corpus")
        authored = authored_dir()
        synthetic = Path(scratch) / "synthetic.prs.jsonl"
        generate_jsonl(synthetic, args.pages)
        _, seconds = timed(ingest_jsonl, root, synthetic)
        print(f"generated and ingested {args.pages} synthetic PR pages: {seconds:.1f} s")
        flashinfer = args.shared / "knowledge" / "flashinfer-ai__flashinfer.prs.jsonl"
        if flashinfer.is_file():
            report, seconds = timed(ingest_jsonl, root, flashinfer)
            print(f"ingested the real FlashInfer corpus ({len(report.written) + len(report.unchanged)} PRs): {seconds:.1f} s")
        else:
            print(f"real FlashInfer corpus not found at {flashinfer}; synthetic pages only")

        report, build_s = timed(update_index, root, authored, full=True)
        print(f"full index build: {build_s:.2f} s for {report.documents} documents (target <= 60 s)")

        rng = random.Random(11)
        latencies = []
        for i in range(args.queries):
            text = rng.choice(QUERIES)
            filters = Filters(architecture="sm100") if i % 5 == 0 else Filters(type="pr") if i % 7 == 0 else Filters()
            started = time.perf_counter()
            with Index(root) as index:
                index.search(text, filters, limit=10)
            latencies.append((time.perf_counter() - started) * 1000)
        latencies.sort()
        p50 = statistics.median(latencies)
        p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
        print(f"query latency over {len(latencies)} queries: p50 {p50:.2f} ms (target <= 30), "
              f"p99 {p99:.2f} ms (target <= 150), max {latencies[-1]:.2f} ms")

        new_page = root.user_wiki / "bench-new-page.md"
        new_page.parent.mkdir(parents=True, exist_ok=True)
        new_page.write_text("---\ntitle: Benchmark page\nkind: technique\nsummary: one new page\n"
                            "sources: [ref:cuda-programming-guide]\n---\nA page added to time the incremental update.\n")
        report, incremental_s = timed(update_index, root, authored)
        print(f"incremental rebuild after one new page: {incremental_s * 1000:.0f} ms "
              f"({report.added} added, {report.unchanged} unchanged; target <= 1 s)")

        result, validate_s = timed(validate_corpus, root, authored)
        print(f"validate: {validate_s:.2f} s over {sum(result.checked.values())} files/bundles, "
              f"{len(result.problems)} problems (target <= 10 s)")

        env = dict(os.environ, PYTHONPATH=str(repo / "src"))
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "kernelpilot", "knowledge", "query", "register spills", "--json",
                        "--root", str(root.path)], env=env, capture_output=True, check=True)
        print(f"cold CLI query (new Python process): {(time.perf_counter() - started) * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
