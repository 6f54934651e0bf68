"""The inputs layer: getting bytes in from the outside world, and out to it.

It owns every source and destination preflight touches: reading a header by
range (probe), opening a path, pipe, bytes, file object or URL as a source,
object storage through fsspec, walking folders, configuration files, files
of image sizes, and writing files atomically. It decodes no pixels.

It may import preflight._core, preflight.errors and preflight._version, and
nothing above it (the import-linter contracts in pyproject.toml hold this).
"""
