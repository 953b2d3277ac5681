"""The Liquid environment and variables OneSignal renders push text with.

OneSignal renders ``headings``, ``subtitle``, ``contents``, image URLs and the launch URL with
Liquid at send time. Variables are bare tag names (``{{ first_name }}``), ``user.tags.<key>`` and
``message.custom_data.<key>``. Undefined variables render as empty text, which is what produces
the dreaded "Hi ," and why ``| default: 'there'`` exists.

Both the preview (``Message``) and the sandbox render through this module, so "what the preview
shows" and "what the sandbox delivered" come from the same rules. :func:`liquid_error_words` says
what a Liquid parser error means in plain words, with its line and column.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from liquid import Environment

__all__ = ["environment", "line_col", "liquid_error_words", "render_context", "render_text"]


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


# --------------------------------------------------------------------------------------------
# parser errors in plain words

_BLOCK_TAGS = ("if", "unless", "for", "case", "capture", "comment", "tablerow")
_TAG_RE = re.compile(r"\{%-?\s*(\w+)")
_COMMON_TAGS = "if, elsif, else, unless, case, when, for, assign, capture"


def line_col(source: str, index: int) -> tuple[int, int]:
    """(line, column), both counted from 1, of the character at ``index`` in ``source``."""
    before = source[: max(0, min(index, len(source)))]
    return before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1


def _unclosed(source: str, name: str) -> int | None:
    """Index of the ``{% name %}`` block that has no ``{% endname %}``, if one can be found."""
    stack: list[int] = []
    for m in _TAG_RE.finditer(source):
        if m.group(1) == name:
            stack.append(m.start())
        elif m.group(1) == "end" + name and stack:
            stack.pop()
    return stack[0] if stack else None


def liquid_error_words(message: str, source: str | None, index: int | None) -> str:
    """A Liquid parser error as a plain sentence that keeps its line and column.

    ``index`` is where the parser stopped in ``source`` (None: at the end of the text).
    """
    src = source or ""
    at_end = index is None or index < 0
    pos = len(src) if at_end else index
    line, col = line_col(src, pos)
    where = f"line {line}, column {col}"
    if message.startswith("expected '}}', found end of file"):
        return f"A `{{{{` at {where} is never closed with `}}}}`."
    if message.startswith("missing tag name or closing delimiter"):
        return f"A `{{%` at {where} is never closed with `%}}`."
    m = re.match(r"expected tag end(\w+)", message) or re.match(
        r"(\w+) tag was never closed", message
    )
    if m and m.group(1) in _BLOCK_TAGS:
        name = m.group(1)
        opened = _unclosed(src, name) if src else None
        if opened is not None:
            o_line, o_col = line_col(src, opened)
            return (
                f"The `{{% {name} %}}` at line {o_line}, column {o_col} is never closed: add "
                f"`{{% end{name} %}}` where its part ends."
            )
        return f"A `{{% {name} %}}` is never closed: add `{{% end{name} %}}` (before {where})."
    m = re.match(r"unexpected tag '(\w+)'", message)
    if m:
        name = m.group(1)
        if not at_end and src:  # point at the tag's `{%`, not at its name
            start = src.rfind("{%", 0, pos + 1)
            line, col = line_col(src, start if start >= 0 else pos)
            where = f"line {line}, column {col}"
        if name.startswith("end") and name[3:] in _BLOCK_TAGS:
            return (
                f"`{{% {name} %}}` at {where} has no `{{% {name[3:]} %}}` before it; remove it "
                "or add the opening tag."
            )
        known = [t for t in environment().tags if t.isalpha()]
        known += ["end" + t for t in _BLOCK_TAGS] + ["else", "elsif", "when"]
        if name in known:
            return (
                f"`{{% {name} %}}` at {where} is outside the block it belongs to (if, unless, "
                "case or for); move it inside, or remove it."
            )
        close = difflib.get_close_matches(name, known, n=1)
        hint = (
            f" Did you mean `{{% {close[0]} %}}`?"
            if close
            else f" Common tags: {_COMMON_TAGS} (each block ends with end<tag>)."
        )
        return f"`{{% {name} %}}` at {where} is not a Liquid tag.{hint}"
    return f"Liquid cannot read the template at {where}: {message}."
