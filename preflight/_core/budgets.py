"""preflight's own resource budgets: how much it reads, holds and decodes.

These are not API limits (those are in tables.py, each with its source):
they are the bounds preflight puts on itself so that hostile or careless
input cannot exhaust memory or time (docs/hostile-input.md).
"""

from __future__ import annotations

from preflight._core.tables import REQUEST_LIMIT_BATCHES

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

# The most memory a decode may need, in bytes, estimated from the header
# before anything is decoded (preflight._imaging.engines.guard): the frame
# at the file's own layout (width x height x samples per pixel x bytes per
# sample, at the scale the decoder shrinks a JPEG to), plus a JPEG's
# coefficient buffer and a TIFF's tile. Why 512 MiB: it holds every 8-bit
# RGB image under the pixel cap (178,956,970 px x 3 bytes is 2**29 bytes,
# give or take two: Pillow sized its threshold that way) and every image of
# four 16-bit samples the API itself accepts (8000 x 8000 x 8 bytes,
# 512,000,000), while a 1000 x 1000 TIFF of 1024 samples (1 GiB) or a
# 13000 x 13000 16-bit RGBA PNG (1.3 GB) is over. PREFLIGHT_MEMORY_BUDGET
# (bytes) changes it.
DECODE_MEMORY_BUDGET = 512 << 20

# The most preflight reads of a configuration file (pyproject.toml,
# preflight.toml, the PREFLIGHT_MODELS file). Real ones are a few KiB; a
# megabyte is far past any, and /dev/zero or a huge file named by mistake
# is one line of error instead of a read until the memory is gone.
MAX_CONFIG_BYTES = 1 << 20

# The most preflight reads of a Messages request body (`preflight request`,
# a file or standard input): 256 MB, the largest body any endpoint takes
# (Message Batches; tables.REQUEST_LIMIT_BATCHES). A Messages body over its
# own 32 MB limit is still read, reported and fixed; one over this cannot be
# sent anywhere, and is refused unread past the bound.
MAX_REQUEST_BODY_BYTES = REQUEST_LIMIT_BATCHES

# The most preflight reads of a file of sizes (`estimate --from`) into
# memory, where it is parsed whole: 512 MiB (as for any stream), about 35
# million rows of `width,height,count` (the cost plan benchmark reads 10
# million rows from 150 MB); a larger plan is split, or given as Parquet
# (a tenth of the bytes).
MAX_SIZES_FILE_BYTES = 512 << 20

# The longest field the CSV reader of a sizes file accepts (Python's csv
# default, 128 KiB): a width is at most 19 digits; a longer field is a file
# that is not a sizes file, reported as such.
MAX_CSV_FIELD = 131_072

# The most preflight reads of a list of paths on standard input (`check -`,
# `prepare -`): 256 MiB, a million paths of 256 bytes; more is a usage
# error, never a read until the memory is gone.
MAX_PATH_LIST_BYTES = 256 << 20

# The most URLs `check` reads at once (threads, whatever --jobs says): the
# work waits on the network, not the CPU, so more in flight hides latency;
# 16 keeps a run polite to one server and its sockets few.
MAX_URLS_IN_FLIGHT = 16

# The most preflight.sdk's cache of prepared image blocks holds, counted as
# the base64 text of the blocks it keeps (the originals are not kept, only
# their hashes): about 25 screenshots of 1 MB each. Preflight(cache_bytes=)
# changes it per middleware.
SDK_CACHE_BYTES = 32 << 20
