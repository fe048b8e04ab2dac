#!/bin/sh
# Install KernelPilot's skills and loop into Codex; takes the options of install-skill.sh.
exec "$(dirname -- "$0")/install-skill.sh" --target codex "$@"
