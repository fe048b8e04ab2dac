#!/bin/sh
# Install KernelPilot's skills and loop into Kimi; takes the options of install-skill.sh.
exec "$(dirname -- "$0")/install-skill.sh" --target kimi "$@"
