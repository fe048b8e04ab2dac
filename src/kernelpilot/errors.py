"""The one exception type that reaches the user as a single line."""


class KernelPilotError(Exception):
    """Bad input or a failed precondition. The message is shown as is, on one line, with exit code 2."""
