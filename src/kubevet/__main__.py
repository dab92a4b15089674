import gc

# Start-up (imports, the parser) makes next to no cyclic garbage, yet the collector kept
# walking what it built: off from here, back on once the command is imported (cli.console).
gc.disable()

from kubevet.cli import console  # noqa: E402

console()
