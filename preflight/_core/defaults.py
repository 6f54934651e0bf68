"""preflight's own defaults that the command line shows in its flags.

They are not API facts (those are in tables.py, each with its source) nor
resource bounds (budgets.py): they are choices of preflight's, kept in this
module of plain constants so that building the command line's parser (every
`preflight` command does, `--version` too) imports nothing heavy; the
modules that use them (settings.py, preflight._requests.packing) import
them from here.
"""

from __future__ import annotations

# Tiles (prepare --tile): pixels neighbouring tiles share. A line of text up
# to about 40 px high is whole in some tile. The facts say nothing about it.
DEFAULT_OVERLAP = 64

# pack_images / `preflight pack`: what to favour with more than 20 images
# over 2000 px (fewest image tokens, fewest requests, or full size), and the
# max_tokens written into each body.
PREFERENCES = ("tokens", "requests", "detail")
DEFAULT_MAX_TOKENS = 1024
