"""The requests layer: whole Messages request bodies.

It owns prepare_request() (a body in, one the API accepts out) and
pack_images() (many images in, the fewest bodies out); checking a body,
check_request(), is pure and lives in the core.

It may import preflight._imaging, preflight._inputs, preflight._core,
preflight.errors and preflight._version, and nothing above it (the
import-linter contracts in pyproject.toml hold this).
"""
