"""Exit codes and the usage error every command shares. Here rather than in cli.py, so
commands never import the module that dispatches to them (cli stays the top of the graph)."""

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


class UsageError(Exception):
    """A bad flag value or config; printed without a traceback, exit code 2."""
