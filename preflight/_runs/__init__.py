"""The runs layer: batch work over many sources.

It owns the batch engine that checks and prepares many sources for every
runner alike (output names, the manifest, resume, totals), the process pool
with ordered results and progress, the Dask runners, and cost plans over
files of sizes.

It may import preflight._requests, preflight._imaging, preflight._inputs,
preflight._core, preflight.errors and preflight._version; only the command
line sits above it (the import-linter contracts in pyproject.toml hold this).
"""
