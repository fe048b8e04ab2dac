import json

import pytest


def one_line_error(result, *fragments):
    assert result.returncode == 2, result
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr


@pytest.fixture
def ingested(root, tmp_path, kp):
    file = kp.write_jsonl(tmp_path / "c.prs.jsonl", [
        kp.pr_record(11, "perf: Hopper TMA rmsnorm", ["csrc/norm.cu"], body="Uses cp.async.bulk.tensor loads.\nSecond line.")])
    result = kp.run_cli("ingest-jsonl", str(file), "--json", root=root)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["index"]["added"] >= 1
    return root


def test_query_get_grep_stats_validate(ingested, kp):
    hits = json.loads(kp.run_cli("query", "TMA", "--type", "pr", "--json", root=ingested).stdout)
    assert hits[0]["id"] == "acme/kernels#11" and "tma" in hits[0]["tags"]
    found = json.loads(kp.run_cli("get", "https://github.com/acme/kernels/pull/11", "--files", "--json",
                                  root=ingested).stdout)
    assert found["files"][0]["path"] == "csrc/norm.cu" and found["origin"]["source"] == "jsonl"
    wiki = json.loads(kp.run_cli("get", "pdl", "--follow-sources", "--json", root=ingested).stdout)
    assert wiki["id"] == "wiki:pdl" and {"id": "ref:ptx-isa"} .items() <= wiki["sources"][1].items()
    grep = kp.run_cli("grep", r"cp\.async\.bulk", "--only", "pages", "--context", "1", root=ingested)
    assert grep.returncode == 0 and "acme/kernels#11:2: Uses cp.async.bulk.tensor loads." in grep.stdout
    assert "acme/kernels#11:3- Second line." in grep.stdout
    assert kp.run_cli("grep", "no-such-text-anywhere-42", root=ingested).returncode == 1
    stats = json.loads(kp.run_cli("stats", "--json", root=ingested).stdout)
    assert stats["by_type"]["pr"] == 1 and stats["by_type"]["wiki"] >= 30
    assert kp.run_cli("validate", root=ingested).returncode == 0


def test_validate_lists_every_problem_and_fails(ingested, kp):
    wiki = ingested.user_wiki
    wiki.mkdir(parents=True)
    (wiki / "a.md").write_text("no front matter\n")
    (wiki / "b.md").write_text("---\ntitle: t\nkind: technique\nsummary: s\nsources: [ref:nowhere]\n---\n")
    result = kp.run_cli("validate", root=ingested)
    assert result.returncode == 1
    assert "a.md:1: a wiki page starts with '---'" in result.stdout
    assert "source 'ref:nowhere' is not in knowledge/data/sources.yaml" in result.stdout


@pytest.mark.parametrize("args, fragments", [
    (("query", "tma"), ["no index at"]),
    (("query", "tma", "--since", "last-week"), ["expected a date as YYYY-MM-DD"]),
    (("query", "tma", "--type", "blog"), ["invalid choice"]),
    (("grep", "("), ["bad regular expression"]),
    (("get", "nothing-like-this"), ["no index at"]),
    (("ingest-jsonl", "/no/such/file.jsonl"), ["no such file"]),
    (("ingest-git", "/tmp", "--repo", "no-slash"), ["repository must be OWNER/NAME"]),
    (("fetch", "--repo", "bad"), ["repository must be OWNER/NAME"]),
    (("index-installed", "numpy"), ["not in the catalog"]),
])
def test_bad_input_is_one_line_and_nonzero(root, kp, args, fragments):
    one_line_error(kp.run_cli(*args, root=root), *fragments)


def test_get_unknown_id_and_fetch_404_are_one_line(ingested, kp, github):
    one_line_error(kp.run_cli("get", "acme/kernels#999", root=ingested), "no document 'acme/kernels#999'")
    result = kp.run_cli("fetch", "--repo", "acme/missing", "--api-url", github.base, root=ingested)
    one_line_error(result, "404 Not Found")
    # The index is still complete and usable after the failed fetch.
    assert json.loads(kp.run_cli("query", "rmsnorm", "--type", "pr", "--json", root=ingested).stdout)[0]["id"] == "acme/kernels#11"
