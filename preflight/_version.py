"""The package version, alone in a module so any layer may read it."""

__version__ = "0.3.0.dev0"
