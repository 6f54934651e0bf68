"""`python -m preflight`: the command line, through its Ctrl-C-safe entry point."""

from preflight.cli import entry_point

if __name__ == "__main__":  # not again in a worker process
    entry_point()
