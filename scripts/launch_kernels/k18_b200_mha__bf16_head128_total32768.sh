#!/bin/sh
# Launch the review-gated loop on kernels/b200_mha__bf16_head128_total32768 in its own worktree; the env overrides of
# `kernelpilot task launch --help` apply (KDA_BASE_BRANCH, KDA_RUN_ID, KDA_NO_CLAUDE, CLAUDE_MODEL, ...).
exec "$(dirname -- "$0")/launch.sh" b200_mha__bf16_head128_total32768 "$@"
