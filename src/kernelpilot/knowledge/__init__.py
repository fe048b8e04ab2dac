"""The kernel-knowledge corpus: PR evidence bundles, authored wiki pages, reference pages and installed
sources, ingested from real histories and searched through an embedded SQLite FTS5 index.

Modules, in the order data flows through them:
  layout     where the corpus lives (the data root and the repository's knowledge/ folder)
  vocab      controlled vocabulary and aliases (knowledge/data/tags.yaml, aliases.yaml)
  catalog    upstream repositories and their kernel-path rules (knowledge/data/repos.yaml)
  infer      tag inference from paths, titles and diffs (knowledge/data/inference.yaml)
  pages      page formats: PR evidence pages, wiki pages, reference pages
  bundles    atomic PR evidence bundles with origin records
  ingest     bundles from JSONL metadata and from a local git clone
  github     bundles from GitHub's REST API
  installed  source maps of installed kernel packages
  corpus     every indexable document, grouped by the file it comes from
  index      the FTS5 index: incremental build and ranked queries
  grep       regular-expression search over pages, diffs, snapshots and sources
  validate   whole-corpus checks
  evaluate   relevance evaluation (recall@k, nDCG@k)
"""
