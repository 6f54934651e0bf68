"""Bounds-checked reads over a prefix of a file.

Rules:
- every read names the absolute offset it needs; reading past the end of
  the data raises _NeedMore(offset + size), never IndexError;
- all integers are unsigned, big- or little-endian as the format says;
- the parser turns _NeedMore into NeedMore / HeaderError (truncated, header-too-large).
"""

from __future__ import annotations


class NeedMoreSignal(Exception):
    """Internal: the data ends before `at_least` bytes."""

    def __init__(self, at_least: int) -> None:
        super().__init__(at_least)
        self.at_least = at_least


class Reader:
    __slots__ = ("data", "size")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.size = len(data)

    def need(self, end: int) -> None:
        if end > self.size:
            raise NeedMoreSignal(end)

    def bytes(self, offset: int, size: int) -> bytes:
        self.need(offset + size)
        return self.data[offset : offset + size]

    def u8(self, offset: int) -> int:
        self.need(offset + 1)
        return self.data[offset]

    def u16be(self, offset: int) -> int:
        self.need(offset + 2)
        return int.from_bytes(self.data[offset : offset + 2], "big")

    def u16le(self, offset: int) -> int:
        self.need(offset + 2)
        return int.from_bytes(self.data[offset : offset + 2], "little")

    def u24le(self, offset: int) -> int:
        self.need(offset + 3)
        return int.from_bytes(self.data[offset : offset + 3], "little")

    def u32be(self, offset: int) -> int:
        self.need(offset + 4)
        return int.from_bytes(self.data[offset : offset + 4], "big")

    def u32le(self, offset: int) -> int:
        self.need(offset + 4)
        return int.from_bytes(self.data[offset : offset + 4], "little")

    def u64be(self, offset: int) -> int:
        self.need(offset + 8)
        return int.from_bytes(self.data[offset : offset + 8], "big")

    def u64le(self, offset: int) -> int:
        self.need(offset + 8)
        return int.from_bytes(self.data[offset : offset + 8], "little")
