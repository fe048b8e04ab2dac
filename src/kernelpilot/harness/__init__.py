"""The task harness: a kernel task is K (ops and their call contract), R (reference and baselines), W (workload).

Library modules: `spec` loads and validates a task folder; `inputs` builds tensors for a case; `impls` resolves
candidates and baselines (`sglang` loads SGLang's by path); `correctness`, `benchcase`, `timing` and `compiling`
run inside an isolated worker process (`worker`, `isolation`; `interpreter` patches Triton's interpreter there);
`ledgers`, `perfmap`, `report` and `scaffold` write the task's files, `bucketing` and `dispatching` serve the
generated dispatchers; `runner` ties them together for the CLI, `views` prints its tables, `worktree` makes the
`task launch` worktree and `testing` builds each task's own test. `environment` stamps every result row,
`evidence` checks that a task's ledgers back its claims, `tasklist` sums up every task.
"""
