"""The requests layer: whole Messages request bodies.

It owns prepare_request() (a body in, one the API accepts out),
pack_images() (many images in, the fewest bodies out), image_block() (a
typed block from a source), and reading URL image sources by range for
check_request(fetch=True); checking a body itself is pure and lives in the
core.

It may import preflight._imaging, preflight._inputs, preflight._core,
preflight.errors and preflight._version, and nothing above it (the
import-linter contracts in pyproject.toml hold this).
"""
