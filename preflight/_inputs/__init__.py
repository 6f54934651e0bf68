"""The inputs layer: getting bytes in from the outside world, and out to it.

It owns every source and destination preflight touches: the one source
object (an Input: ranged reads, a size when known, a display name) that a
path, pipe, bytes, file object or URL is opened into once, reading a header
by range (probe), HTTP(S) by range, object storage through fsspec, walking
folders, configuration files, files of image sizes, and writing files
atomically. It decodes no pixels.

It may import preflight._core, preflight.errors and preflight._version, and
nothing above it (the import-linter contracts in pyproject.toml hold this).
"""
