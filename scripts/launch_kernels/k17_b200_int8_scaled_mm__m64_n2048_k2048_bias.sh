#!/bin/sh
# Launch the review-gated loop on kernels/b200_int8_scaled_mm__m64_n2048_k2048_bias in its own worktree; the env overrides of
# `kernelpilot task launch --help` apply (KDA_BASE_BRANCH, KDA_RUN_ID, KDA_NO_CLAUDE, CLAUDE_MODEL, ...).
exec "$(dirname -- "$0")/launch.sh" b200_int8_scaled_mm__m64_n2048_k2048_bias "$@"
