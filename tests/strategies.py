# Hypothesis strategies shared by the test modules.

from __future__ import annotations

from hypothesis import strategies as st

MAX_SIDE = 100_000

# Sides from 1 to 100,000, weighted so that the interesting regions (tiny,
# around the tier limits, the 8000 px rejection, huge) all come up often.
sides = st.one_of(
    st.integers(1, 64),
    st.integers(1000, 3000),
    st.integers(7900, 8100),
    st.integers(1, MAX_SIDE),
)

sizes = st.tuples(sides, sides)

# Extreme aspect ratios: one side 1..8 px, the other up to 100,000 px.
extreme_sizes = st.one_of(
    st.tuples(st.integers(1, 8), st.integers(1, MAX_SIDE)),
    st.tuples(st.integers(1, MAX_SIDE), st.integers(1, 8)),
)

any_sizes = st.one_of(sizes, extreme_sizes)

tiers = st.sampled_from(["standard", "high-res"])
rules = st.sampled_from(["guide", "patches"])
token_budgets = st.integers(1, 6000)
boxes = st.tuples(st.integers(1, 5000), st.integers(1, 5000))


# --- images, for the parser's differential tests -------------------------------

# (Pillow format, mode, save options) that Pillow can write.
IMAGE_KINDS = [
    ("JPEG", "L", {}),
    ("JPEG", "RGB", {}),
    ("JPEG", "RGB", {"progressive": True}),
    ("JPEG", "CMYK", {}),
    ("PNG", "1", {}),
    ("PNG", "L", {}),
    ("PNG", "LA", {}),
    ("PNG", "P", {}),
    ("PNG", "RGB", {}),
    ("PNG", "RGBA", {}),
    ("PNG", "I;16", {}),
    ("GIF", "P", {}),
    ("GIF", "RGB", {"interlace": False}),
    ("WEBP", "RGB", {"quality": 60}),
    ("WEBP", "RGB", {"lossless": True}),
    ("WEBP", "RGBA", {"quality": 60}),
    ("WEBP", "RGBA", {"lossless": True}),
]
image_kinds = st.sampled_from(IMAGE_KINDS)
small_sides = st.integers(1, 300)
orientations = st.integers(1, 8)
