"""The sandbox's own Liquid set-up, configured as OneSignal documents its rendering.

OneSignal renders ``headings``, ``subtitle``, ``contents`` and the launch URL with Liquid at send
time (docs: using-liquid-syntax). Variables: bare tag keys (``{{ first_name }}``),
``user.tags.<key>``, ``subscription.language`` and ``message.custom_data.<key>``. Missing values
render as empty text and the message is still sent (docs: using-liquid-syntax,
personalization-api-custom-data): python-liquid's default ``Undefined`` does exactly that.

Written apart from the client's preview on purpose (the sandbox is a witness, not a twin): if
the two ever render differently, ``tests/message/test_sandbox_agreement.py`` says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from liquid import Environment

from onesig_nb.sandbox.limits import LIQUID_LOOP_ITERATION_LIMIT, LIQUID_OUTPUT_STREAM_LIMIT

__all__ = ["TemplateProblem", "check", "context", "environment", "render", "roots"]


class TemplateProblem(Exception):
    """A template OneSignal would not render: bad syntax or an unknown filter."""


class _OneSignalEnvironment(Environment):
    loop_iteration_limit = LIQUID_LOOP_ITERATION_LIMIT
    output_stream_limit = LIQUID_OUTPUT_STREAM_LIMIT


@lru_cache(maxsize=1)
def environment() -> Environment:
    """One environment for the sandbox process (templates are cached by source text)."""
    return _OneSignalEnvironment()


@lru_cache(maxsize=4096)
def _template(source: str):
    return environment().from_string(source)


def check(source: str) -> None:
    """Raise :class:`TemplateProblem` for bad syntax or an unknown filter (see the limits table,
    ``liquid_syntax_error_or_unknown_filter``); render-time errors are per user, not here."""
    if "{" not in source:
        return
    try:
        template = _template(source)
    except Exception as exc:  # LiquidSyntaxError, or anything python-liquid raises on odd input
        raise TemplateProblem(f"invalid Liquid syntax: {exc}") from None
    known = environment().filters
    unknown = [name for name in template.filter_names() if name not in known]
    if unknown:
        raise TemplateProblem(f"unknown Liquid filter: {unknown[0]}")


def roots(source: str) -> frozenset[str]:
    """The top-level variable names a template reads (``user``, ``first_name``, ...)."""
    return frozenset(_template(source).global_variables())


def context(
    tags: Mapping[str, str], language: str, custom_data: Mapping[str, Any] | None
) -> dict[str, Any]:
    """What a template sees for one subscription."""
    ctx: dict[str, Any] = dict(tags)
    ctx["user"] = {"tags": dict(tags)}
    ctx["subscription"] = {"language": language}
    ctx["message"] = {"custom_data": dict(custom_data or {})}
    return ctx


def render(
    source: str | None,
    tags: Mapping[str, str],
    *,
    language: str,
    custom_data: Mapping[str, Any] | None = None,
) -> str | None:
    """Render one field for one subscription (raises liquid's errors at render time)."""
    if source is None or "{" not in source:
        return source
    return _template(source).render(**context(tags, language, custom_data))
