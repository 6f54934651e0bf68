"""The imaging layer: pixels, decoded and encoded.

It owns the image engines (pyvips and Pillow, behind one interface, with
the checks made before any pixel is decoded, and one verification of
whether data decodes cleanly), opening a source for decoding,
inspect(), prepare(), the quality measures, tiling, and the signal handling
that lets Ctrl-C stop a run inside libvips.

It may import preflight._inputs, preflight._core, preflight.errors and
preflight._version, and nothing above it (the import-linter contracts in
pyproject.toml hold this).
"""
