"""The Liquid environment and variables OneSignal renders push text with.

OneSignal renders ``headings``, ``subtitle``, ``contents``, image URLs and the launch URL with
Liquid at send time. Variables are bare tag names (``{{ first_name }}``), ``user.tags.<key>`` and
``message.custom_data.<key>``. Undefined variables render as empty text, which is what produces
the dreaded "Hi ," and why ``| default: 'there'`` exists.

Both the preview (``Message``) and the sandbox render through this module, so "what the preview
shows" and "what the sandbox delivered" come from the same rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from liquid import Environment

__all__ = ["environment", "render_context", "render_text"]


#: A push is a few hundred characters. These bounds stop a runaway template (a loop over
#: ``(1..100000000)``, a huge output) from hanging a notebook kernel or the sandbox; Liquid
#: raises its own error instead, which lint and the preview report like any template error.
LOOP_ITERATION_LIMIT = 10_000
OUTPUT_STREAM_LIMIT = 100_000  # characters


class _BoundedEnvironment(Environment):
    loop_iteration_limit = LOOP_ITERATION_LIMIT
    output_stream_limit = OUTPUT_STREAM_LIMIT


@lru_cache(maxsize=1)
def environment() -> Environment:
    """One shared Liquid environment (templates are cached by source text)."""
    return _BoundedEnvironment()


@lru_cache(maxsize=4096)
def _template(source: str):
    return environment().from_string(source)


def render_context(
    tags: Mapping[str, str], custom_data: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The variables a template sees for one user with these tags."""
    tags = dict(tags)
    ctx: dict[str, Any] = dict(tags)
    ctx["user"] = {"tags": tags}
    ctx["message"] = {"custom_data": dict(custom_data or {})}
    return ctx


def render_text(
    source: str | None, tags: Mapping[str, str], custom_data: Mapping[str, Any] | None = None
) -> str | None:
    """Render one template for one user. Raises liquid's own errors on bad syntax."""
    if source is None:
        return None
    if "{" not in source:
        return source
    return _template(source).render(**render_context(tags, custom_data))
