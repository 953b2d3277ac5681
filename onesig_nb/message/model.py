"""A push message: Liquid templates, validation, per-user rendering and lint (pure, no UI).

    msg = Message({"en": "Hi {{ first_name | default: 'there' }}", "es": "Hola {{ first_name }}"},
                  headings="Your cart misses you", url="https://shop.example/cart")
    msg.render(cohort)        # one row per person, in their language, exactly as OneSignal renders
    msg.lint(cohort)          # findings: missing tags, truncation, bad URLs, Liquid errors ...
    msg.personalization(cohort), msg.client_batches(cohort), msg.to_payload()

This module is the :class:`Message` class: its fields, payload and entry points. Argument checks
live in :mod:`onesig_nb.message.fields`, template analysis and the memoized per-cohort rendering
in :mod:`onesig_nb.message.rendering`, the verdicts in :mod:`onesig_nb.message.findings` and the
checks in :mod:`onesig_nb.message.lint`.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import logging
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from onesig_nb.errors import ValidationError
from onesig_nb.message import rendering
from onesig_nb.message.fields import (
    LANG_RE,
    check_badge,
    check_buttons,
    check_channel_id,
    check_data,
    check_delivery,
    check_ios_attachments,
    check_name,
    check_priority,
    check_send_after,
    check_str,
    check_subtitle_languages,
    check_template,
    check_text,
    check_throttle,
    check_ttl,
    check_web_buttons,
    check_web_url,
    lang_map,
)
from onesig_nb.message.findings import Findings, Personalization, personalization_verdict
from onesig_nb.message.lint import lint_message
from onesig_nb.message.rendering import LANG_FIELDS, URL_FIELDS, cohort_frame
from onesig_nb.onesignal import limits

__all__ = ["Message"]

log = logging.getLogger("onesig_nb.message.model")

_FIELDS = (
    "contents",
    "headings",
    "subtitle",
    "url",
    "chrome_web_image",
    "big_picture",
    "ios_attachments",
    "data",
    "buttons",
    "send_after",
    "delayed_option",
    "delivery_time_of_day",
    "ttl",
    "priority",
    "name",
    "template_id",
    "custom_data",
    "web_buttons",
    "app_url",
    "web_url",
    "large_icon",
    "android_channel_id",
    "collapse_id",
    "thread_id",
    "android_group",
    "ios_badgeType",
    "ios_badgeCount",
    "ios_sound",
    "throttle_rate_per_minute",
)


class Message:
    """A push notification whose texts may be Liquid templates, validated at construction.

    :param contents: the body; text (English) or ``{language: text}`` with an ``"en"`` entry.
    :param headings: the title, same shapes; ``subtitle`` is shown on iOS only.
    :param url: launch URL; ``chrome_web_image``, ``big_picture``, ``ios_attachments``: images.
    :param data: extra data for the app (≤ 2,048 bytes; OneSignal does not render Liquid in it).
    :param buttons: up to 3 ``{"id", "text", "icon"?}`` action buttons.
    :param template_id: a dashboard template's id (a UUID); OneSignal builds the push from it.
    :param custom_data: values templates read as ``message.custom_data.<key>`` (≤ 2,048 bytes);
        OneSignal fills them only together with ``template_id``, so it requires one.
    :param web_buttons: up to 2 Chrome buttons ``{"id", "text", "url", "icon"?}`` (``url``
        https); ``app_url`` / ``web_url``: the link on apps (may be ``myapp://...``) / on the
        web (https), instead of ``url``.
    :param large_icon: Android's large icon (a URL or a drawable name);
        ``android_channel_id``: the UUID of a OneSignal channel category; ``android_group`` /
        ``thread_id``: group notifications on Android / iOS; ``collapse_id`` (≤ 64 characters):
        a newer push with the same id replaces the older one.
    :param ios_badgeType: ``"SetTo"`` or ``"Increase"`` the app icon's badge by
        ``ios_badgeCount`` (or ``"None"``); ``ios_sound``: a sound file in the app.
    :param throttle_rate_per_minute: pushes per minute (0 = no throttling); not with
        ``delayed_option``.

    Other keywords are OneSignal's own fields (``send_after``, ``delayed_option``, ``ttl`` ...),
    checked as the create-message schema (v11.6) documents them: ``priority`` 5 or 10,
    ``subtitle`` (iOS) with the same languages as ``contents``, ``ttl`` up to 28 days.

    >>> Message("Hi {{ first_name | default: 'there' }}").variables
    {'first_name'}
    """

    def __init__(
        self,
        contents: str | Mapping[str, str],
        *,
        headings: str | Mapping[str, str] | None = None,
        subtitle: str | Mapping[str, str] | None = None,
        url: str | None = None,
        chrome_web_image: str | None = None,
        big_picture: str | None = None,
        ios_attachments: Mapping[str, str] | None = None,
        data: Mapping[str, Any] | None = None,
        buttons: Iterable[Mapping[str, str]] | None = None,
        send_after: str | _dt.datetime | None = None,
        delayed_option: str | None = None,
        delivery_time_of_day: str | None = None,
        ttl: int | None = None,
        priority: int | None = None,
        name: str | None = None,
        template_id: str | None = None,
        custom_data: Mapping[str, Any] | None = None,
        web_buttons: Iterable[Mapping[str, str]] | None = None,
        app_url: str | None = None,
        web_url: str | None = None,
        large_icon: str | None = None,
        android_channel_id: str | None = None,
        collapse_id: str | None = None,
        thread_id: str | None = None,
        android_group: str | None = None,
        ios_badgeType: str | None = None,  # noqa: N803 - OneSignal's field name
        ios_badgeCount: int | None = None,  # noqa: N803 - OneSignal's field name
        ios_sound: str | None = None,
        throttle_rate_per_minute: int | None = None,
    ):
        self.contents = lang_map("contents", contents, required=True)
        self.headings = lang_map("headings", headings, required=False)
        self.subtitle = check_subtitle_languages(
            lang_map("subtitle", subtitle, required=False), self.contents
        )
        self.url = check_str("url", url)
        self.chrome_web_image = check_str("chrome_web_image", chrome_web_image)
        self.big_picture = check_str("big_picture", big_picture)
        self.ios_attachments = check_ios_attachments(ios_attachments)
        self.data = check_data("data", data)
        self.custom_data = check_data("custom_data", custom_data)
        self.template_id = check_template(template_id, self.custom_data)
        self.buttons = check_buttons(buttons)
        self.send_after = check_send_after(send_after)
        check_delivery(delayed_option, delivery_time_of_day)
        self.delayed_option = delayed_option
        self.delivery_time_of_day = delivery_time_of_day
        self.ttl = check_ttl(ttl)
        self.priority = check_priority(priority)
        self.name = check_name(name)
        self.web_buttons = check_web_buttons(web_buttons)
        self.app_url = check_str("app_url", app_url)
        self.web_url = check_web_url(web_url)
        self.large_icon = check_str("large_icon", large_icon)
        self.android_channel_id = check_channel_id(android_channel_id)
        self.collapse_id = check_text(
            "collapse_id", collapse_id, max_chars=limits.MAX_COLLAPSE_ID_CHARS
        )
        self.thread_id = check_text("thread_id", thread_id)
        self.android_group = check_text("android_group", android_group)
        self.ios_badgeType, self.ios_badgeCount = check_badge(ios_badgeType, ios_badgeCount)
        self.ios_sound = check_text("ios_sound", ios_sound)
        self.throttle_rate_per_minute = check_throttle(throttle_rate_per_minute, delayed_option)

    # ---- serialization -------------------------------------------------------------------

    def to_payload(self) -> dict[str, Any]:
        """The OneSignal request fields that are set, templates left as Liquid (no targeting)."""
        out: dict[str, Any] = {}
        for key in _FIELDS:
            value = getattr(self, key)
            if value is not None:
                out[key] = json.loads(json.dumps(value))  # deep copy, plain JSON types
        return out

    def to_dict(self) -> dict[str, Any]:
        """The constructor's keywords that are set (round-trips through :meth:`from_dict`)."""
        return self.to_payload()

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Message:
        """Build a Message from a dict of constructor keywords (OneSignal field names)."""
        if not isinstance(d, Mapping):
            raise ValidationError(f"A message must be a mapping of fields, not {type(d).__name__}.")
        unknown = sorted(set(d) - set(_FIELDS))
        if unknown:
            raise ValidationError(
                f"Unknown message field(s) {unknown}. Allowed: {', '.join(_FIELDS)}."
            )
        if "contents" not in d:
            raise ValidationError("The message has no 'contents'; add contents: {en: '...'}.")
        kwargs = {k: v for k, v in d.items() if k != "contents"}
        return cls(d["contents"], **kwargs)

    @classmethod
    def from_yaml(cls, path: str | Path) -> Message:
        """Read a message from a YAML file (the fields at top level, or under ``message:``)."""
        import yaml

        path = Path(path)
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ValidationError(
                f"No message file at {path}; create it or fix the path."
            ) from None
        except yaml.YAMLError as exc:
            raise ValidationError(f"{path} is not valid YAML: {exc}") from None
        if isinstance(doc, Mapping) and set(doc) == {"message"}:
            doc = doc["message"]
        return cls.from_dict(doc)

    @property
    def fingerprint(self) -> str:
        """sha256 of the canonical payload: equal messages, equal fingerprints."""
        canon = json.dumps(self.to_payload(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canon.encode()).hexdigest()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Message) and self.to_payload() == other.to_payload()

    def __hash__(self) -> int:
        return hash(self.fingerprint)

    def __repr__(self) -> str:
        return f"Message(contents={self.contents!r}, headings={self.headings!r})"

    # ---- templates -----------------------------------------------------------------------

    @property
    def languages(self) -> list[str]:
        return list(self.contents)

    @property
    def variables(self) -> set[str]:
        """The tag names the templates read (bare names and ``user.tags.x``)."""
        return rendering.variables(self)

    @property
    def reads_all_tags(self) -> bool:
        """Whether a template reads ``user.tags`` as a whole (a loop, a dynamic key)."""
        return rendering.reads_all_tags(self)

    # ---- public rendering ------------------------------------------------------------------

    def render(
        self, cohort_or_df: Any, *, tag_map: Mapping[str, str] | None = None
    ) -> pd.DataFrame:
        """Render the message for every person, in their language, as OneSignal would.

        Returns a DataFrame with columns external_id, language, heading, subtitle, contents, url.
        Raises :class:`ValidationError` when a template cannot be rendered.
        """
        res = rendering.render_all(self, cohort_or_df, tag_map=tag_map)
        n = len(res.ids)
        none = np.full(n, None, dtype=object)
        return pd.DataFrame(
            {
                "external_id": res.ids,
                "language": res.langs,
                "heading": res.columns.get("heading", none),
                "subtitle": res.columns.get("subtitle", none),
                "contents": res.columns.get("contents", none),
                "url": res.columns.get("url", none),
            }
        )

    def render_user(self, person: Any, *, tag_map: Mapping[str, str] | None = None) -> dict:
        """Everything one person would see (first row of ``person``); never raises on bad Liquid.

        Returns heading, subtitle, contents, url, web_url, app_url, chrome_web_image,
        big_picture, large_icon, ios_image, language and ``errors`` (texts of templates that
        failed; failed fields render as "").
        """
        df = cohort_frame(person).iloc[:1]
        res = rendering.render_all(self, df, tag_map=tag_map, on_error="collect")
        first = {k: (v[0] if len(v) else None) for k, v in res.columns.items()}
        images = [v for k, v in first.items() if k.startswith("ios_attachments.") and v]
        return {
            "external_id": str(res.ids[0]) if len(res.ids) else None,
            "language": str(res.langs[0]) if len(res.langs) else "en",
            "heading": first.get("heading"),
            "subtitle": first.get("subtitle"),
            "contents": first.get("contents"),
            "url": first.get("url"),
            "web_url": first.get("web_url"),
            "app_url": first.get("app_url"),
            "chrome_web_image": first.get("chrome_web_image"),
            "big_picture": first.get("big_picture"),
            "large_icon": first.get("large_icon"),
            "ios_image": images[0] if images else None,
            "errors": [f"{slot.where}: {reason}" for slot, reason, _ in res.failures],
        }

    def client_batches(
        self, cohort: Any, *, tag_map: Mapping[str, str] | None = None
    ) -> list[tuple[dict, list[str]]]:
        """Fully rendered payloads (no Liquid left) and the external ids that get each one.

        People who would read exactly the same notification share one payload. The rendered text
        is sent under ``en`` (OneSignal requires it) and under the person's language, so the
        device shows what the preview showed whatever its own language setting.
        """
        res = rendering.render_all(self, cohort, tag_map=tag_map)
        base = self.to_payload()
        for key in (*LANG_FIELDS, *URL_FIELDS, "ios_attachments"):
            base.pop(key, None)
        cols = sorted(res.columns)
        groups: dict[tuple, list[str]] = {}
        translated = {lg for f in LANG_FIELDS for lg, v in (getattr(self, f) or {}).items() if v}
        arrays = [res.columns[c] for c in cols]
        for i, ext_id in enumerate(res.ids.tolist()):
            lang = res.raw_langs[i]
            key = (lang if lang in translated else "en", *(a[i] for a in arrays))
            groups.setdefault(key, []).append(ext_id)
        out = []
        for key, ids in groups.items():
            lang, values = key[0], dict(zip(cols, key[1:], strict=True))
            payload = dict(base)
            for col, fld in (
                ("contents", "contents"),
                ("heading", "headings"),
                ("subtitle", "subtitle"),
            ):
                text = values.get(col)
                if text is not None:
                    extra = lang != "en" and isinstance(lang, str) and LANG_RE.match(lang)
                    payload[fld] = {"en": text, lang: text} if extra else {"en": text}
            for fld in URL_FIELDS:
                if values.get(fld):
                    payload[fld] = values[fld]
            att = {
                c.split(".", 1)[1]: v
                for c, v in values.items()
                if c.startswith("ios_attachments.") and v
            }
            if att:
                payload["ios_attachments"] = att
            out.append((payload, ids))
        return out

    def personalization(
        self,
        cohort: Any = None,
        *,
        tag_map: Mapping[str, str] | None = None,
        synced_tags: Iterable[str] | None = None,
    ) -> Personalization:
        """Say whether OneSignal can fill the templates (server) or we must pre-render (client).

        ``synced_tags``: tag names known to be stored in OneSignal (e.g. after a TagSync). When
        omitted, server mode is assumed possible and the reason says what it depends on.
        """
        distinct = len(self.client_batches(cohort, tag_map=tag_map)) if cohort is not None else None
        return personalization_verdict(
            tuple(sorted(self.variables)),
            self.reads_all_tags,
            distinct,
            len(self.contents),
            synced_tags,
        )

    # ---- lint --------------------------------------------------------------------------------

    def lint(self, cohort: Any = None, *, tag_map: Mapping[str, str] | None = None) -> Findings:
        """Check the message (and, given a cohort, every person's rendering); never raises.

        Returns findings sorted by severity: errors first, then warnings, then notes, as a
        :class:`Findings` list (``print()`` it, show it in a notebook, or ``.to_frame()``).
        """
        return lint_message(self, cohort, tag_map=tag_map)
