"""Deterministic identifiers: hash-derived ids and random id streams drawn from their own RNG."""

from __future__ import annotations

import hashlib

import numpy as np

_B62 = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_HEX = b"0123456789abcdef"


def _b62_digest(text: str, n: int) -> str:
    digest = hashlib.sha256(text.encode()).digest() * 2
    return "".join(chr(_B62[b % 62]) for b in digest[:n])


class _Ids:
    """Random ids drawn in vectorized chunks from their own deterministic stream."""

    def __init__(self, rng: np.random.Generator, alphabet: bytes, width: int):
        self._rng, self._alphabet, self._width = rng, np.frombuffer(alphabet, np.uint8), width
        self._buf: list[str] = []
        self._pos = 0

    def one(self) -> str:
        if self._pos >= len(self._buf):
            idx = self._rng.integers(0, len(self._alphabet), (16_384, self._width))
            raw = self._alphabet[idx].view(f"S{self._width}").ravel()
            self._buf, self._pos = raw.astype(str).tolist(), 0
        self._pos += 1
        return self._buf[self._pos - 1]

    def uuid(self) -> str:
        h = self.one()  # 32 hex digits -> uuid4 shape
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:32]}"
