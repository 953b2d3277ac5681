"""Deterministic identifiers: hash-derived ids and random id streams drawn from their own RNG."""

from __future__ import annotations

import hashlib

import numpy as np

#: Alphabets for the id streams: base 62 (Engage message ids) and lower-case hex (uuids).
B62 = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
HEX = b"0123456789abcdef"


def b62_digest(text: str, n: int) -> str:
    """``n`` base-62 characters derived from ``text``: fixed ids (space, computations) per name."""
    digest = hashlib.sha256(text.encode()).digest() * 2
    return "".join(chr(B62[b % 62]) for b in digest[:n])


class Ids:
    """Random ids drawn in vectorized chunks from their own deterministic stream."""

    def __init__(self, rng: np.random.Generator, alphabet: bytes, width: int):
        self._rng, self._alphabet, self._width = rng, np.frombuffer(alphabet, np.uint8), width
        self._buf: list[str] = []
        self._pos = 0

    def one(self) -> str:
        """The next id of ``width`` characters."""
        if self._pos >= len(self._buf):
            idx = self._rng.integers(0, len(self._alphabet), (16_384, self._width))
            raw = self._alphabet[idx].view(f"S{self._width}").ravel()
            self._buf, self._pos = raw.astype(str).tolist(), 0
        self._pos += 1
        return self._buf[self._pos - 1]

    def uuid(self) -> str:
        """The next id shaped as a version-4 uuid (the stream must be 32 hex digits wide)."""
        h = self.one()  # 32 hex digits -> uuid4 shape
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:32]}"
