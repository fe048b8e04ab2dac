"""KernelPilot: the package behind the agent skills (task harness, loop, knowledge, ncu digests)."""

__version__ = "0.1.0"
