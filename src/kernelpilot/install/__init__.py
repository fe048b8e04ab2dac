"""Installers: the skills and the review-gated loop into Claude Code, Codex and Kimi, undoable with --uninstall."""
