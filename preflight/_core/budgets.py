"""preflight's own resource budgets: how much it reads, holds and decodes.

These are not API limits (those are in tables.py, each with its source):
they are the bounds preflight puts on itself so that hostile or careless
input cannot exhaust memory or time (docs/hostile-input.md).
"""

from __future__ import annotations

# The most preflight reads from a pipe, a device or a URL into memory (its
# own bound, not an API limit: the largest file any surface takes is under
# 8 MiB of bytes, 10 MB of base64).
MAX_STREAM_BYTES = 512 << 20

# Pillow's own decompression-bomb refusal threshold (2 x its MAX_IMAGE_PIXELS
# default), about 13,377 x 13,377: far above the API's 8000 x 8000, and the
# same for both engines, so neither decodes what the other refuses.
DEFAULT_PIXEL_CAP = 178_956_970

# Seconds a network request may wait to connect, and then for each read,
# before it is reported as timed out (a server that accepts and never
# answers). `--timeout` and `timeout=` change it.
NETWORK_TIMEOUT = 30.0
