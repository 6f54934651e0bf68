from preflight.cli import entry_point

entry_point()
