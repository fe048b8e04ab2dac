"""The review-gated RLCR loop: plans, the state machine, the Stop/PreToolUse hooks, reviewers and the evidence gate.

Kept empty on purpose: `kernelpilot.loop.hook` is imported by every hook call of every session, so importing the
package must cost nothing beyond the module asked for.
"""
