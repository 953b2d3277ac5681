"""Plain words for people: counts with the right plural, words that agree with a count, and the
names of platforms and languages.

One implementation of each, shared by the message lint, the cohort and campaign cards and the
widgets, so "1 person" / "344 people" reads the same everywhere. Standard library only: every
layer of onesig_nb may use it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = [
    "LANGUAGE_NAMES",
    "PLATFORM_NAMES",
    "agree",
    "count",
    "duration_text",
    "language_name",
    "people",
    "platform_text",
    "tags_text",
]

#: How platforms are named for people (the keys are :data:`onesig_nb.onesignal.PLATFORMS`).
PLATFORM_NAMES = {"ios": "iOS", "android": "Android", "web": "Web"}

#: English names of common ISO 639-1 codes (OneSignal's language keys), for sentences people read.
LANGUAGE_NAMES = {
    "ar": "Arabic",
    "bg": "Bulgarian",
    "ca": "Catalan",
    "cs": "Czech",
    "da": "Danish",
    "de": "German",
    "el": "Greek",
    "en": "English",
    "es": "Spanish",
    "et": "Estonian",
    "fa": "Persian",
    "fi": "Finnish",
    "fr": "French",
    "he": "Hebrew",
    "hi": "Hindi",
    "hr": "Croatian",
    "hu": "Hungarian",
    "id": "Indonesian",
    "it": "Italian",
    "ja": "Japanese",
    "ko": "Korean",
    "lt": "Lithuanian",
    "lv": "Latvian",
    "ms": "Malay",
    "nb": "Norwegian",
    "nl": "Dutch",
    "no": "Norwegian",
    "pl": "Polish",
    "pt": "Portuguese",
    "ro": "Romanian",
    "ru": "Russian",
    "sk": "Slovak",
    "sr": "Serbian",
    "sv": "Swedish",
    "th": "Thai",
    "tr": "Turkish",
    "uk": "Ukrainian",
    "vi": "Vietnamese",
    "zh": "Chinese",
    "zh-Hans": "Chinese (Simplified)",
    "zh-Hant": "Chinese (Traditional)",
}


def agree(n: int, singular: str, plural: str) -> str:
    """The word that agrees with ``n``: ``agree(1, "is", "are")`` is "is", 2 gives "are"."""
    return singular if n == 1 else plural


def count(n: int, singular: str, plural: str | None = None) -> str:
    """``1 request``, ``2 requests``, ``1,000 users``; ``plural`` for irregular words."""
    return f"{n:,} {agree(n, singular, plural or singular + 's')}"


def people(n: int) -> str:
    """``1 person`` / ``344 people``."""
    return count(n, "person", "people")


def platform_text(platforms: Iterable[str]) -> str:
    """``iOS, Android, Web``."""
    return ", ".join(PLATFORM_NAMES.get(p, p) for p in platforms)


def language_name(code: Any) -> str:
    """'German' for 'de' (also 'de-AT'); the code itself when the table does not know it."""
    code = str(code)
    return LANGUAGE_NAMES.get(code) or LANGUAGE_NAMES.get(code.split("-")[0].lower()) or code


def duration_text(seconds: float) -> str:
    """``about 1 s``, ``about 40 s``, ``about 3 min``."""
    if seconds < 90:
        return f"about {max(1, round(seconds))} s"
    return f"about {round(seconds / 60)} min"


def tags_text(tags: dict | None) -> str:
    """``plan=free, ltv=352.46`` (a deleted tag shows as ``ltv=(deleted)``)."""
    if not isinstance(tags, dict) or not tags:
        return ""
    return ", ".join(f"{k}={v if v != '' else '(deleted)'}" for k, v in tags.items())
