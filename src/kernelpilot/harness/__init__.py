"""The task harness: a kernel task is K (ops and their call contract), R (reference and baselines), W (workload).

Library modules: `spec` loads and validates a task folder; `inputs` builds tensors for a case; `impls` resolves
candidates and baselines; `correctness` and `timing` run inside an isolated worker process (`worker`,
`isolation`); `ledgers`, `perfmap`, `dispatch`, `report` and `scaffold` write the task's files; `runner` ties
them together for the CLI.
"""
