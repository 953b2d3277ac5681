"""Wire formats of the two OneSignal API generations, and nothing else.

This is the only module that knows field names, paths, auth schemes and response shapes:

============================  ===========================================  ==============================================
                              legacy (``api="legacy"``, v1 player model)    current (``api="current"``, User Model)
============================  ===========================================  ==============================================
create notification           ``POST /api/v1/notifications``                ``POST /notifications``
targeting                     ``include_external_user_ids`` (2,000)         ``include_aliases.external_id`` (20,000)
                              + ``channel_for_external_user_ids: push``     + ``target_channel: push``
or by segments / filters      ``included_segments``, ``excluded_segments``   the same, + ``target_channel: push``
                              or ``filters`` (v1.2.2)                       (v11.6)
list / cancel notifications   ``GET|DELETE /api/v1/notifications[/{id}]``    ``GET|DELETE /notifications[/{id}]``
templates                     (none in v1.2.2: the current route is used)   ``/templates[/{id}]?app_id=``
idempotency field             ``external_id``                               ``idempotency_key``
subscription export           ``POST /api/v1/players/csv_export?app_id=``   ``POST /players/csv_export?app_id=``
                              -> ``csv_file_url`` (a gzip CSV, 404/403       (the same answer and file)
                              until ready)
edit tags                     ``PUT /api/v1/apps/{app}/users/{ext}``        ``PATCH /apps/{app}/users/by/external_id/{ext}``
                              ``{"tags": {...}}``                           ``{"properties": {"tags": {...}}}``
auth header                   ``Authorization: Basic <REST key>``           ``Authorization: Key <app key>``
============================  ===========================================  ==============================================

Responses are parsed into :mod:`.models` dataclasses whatever shape ``errors`` takes: a list of
strings, an object of invalid ids, a list of ``{code, title}`` objects, empty, or a body that is
not JSON at all (reference onesignal-api.md §2.2, §4.1, §9).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote

import orjson

from onesig_nb.config import ENV_APP_ID, ENV_KEY
from onesig_nb.errors import APIError, AuthError, NotCancellable, RateLimited, ValidationError
from onesig_nb.onesignal import limits
from onesig_nb.onesignal.models import (
    PLATFORMS,
    NotificationPage,
    NotificationRequest,
    NotificationResponse,
    NotificationStats,
    Subscription,
    Template,
    TemplatePage,
)
from onesig_nb.onesignal.payload import check_payload
from onesig_nb.onesignal.targeting import check_filters, check_segments

__all__ = [
    "CURRENT",
    "DEVICE_TYPES",
    "EXPORT_FIELDS",
    "EXPORT_NOT_READY",
    "SUBSCRIPTION_TYPES",
    "LEGACY",
    "NOTIFICATION_KINDS",
    "Dialect",
    "decode_body",
    "dialect_for",
    "error_for",
    "flatten_errors",
    "is_app_not_found",
    "invalid_ids",
    "not_cancellable",
    "platform_flags",
]

#: ``extra_fields`` the subscription export is asked for: who each device belongs to and
#: whether it can be pushed to (v11.6 csv-export ``extra_fields`` enum; v1.2.2 export_players).
EXPORT_FIELDS = ("external_user_id", "notification_types")

#: Statuses of the export's ``csv_file_url`` while the file is being generated: v1.2.2
#: export_players says "If the file is not ready, a 403 error will be returned"; the behaviour
#: table (docs: exporting-data) says the URL answers 404 until ready. Both mean "poll again".
EXPORT_NOT_READY = frozenset({403, 404})

#: The export's ``device_type`` column -> the toolkit's platform (OneSignal device types: 0
#: iOS, 1 Android, 5 Chrome web, 7 Safari, 8 Firefox, 17 Safari VAPID); others (Amazon,
#: Huawei, email, SMS, ...) are ``other``.
DEVICE_TYPES = {0: "ios", 1: "android", 5: "web", 7: "web", 8: "web", 17: "web"}

#: View user's subscription ``type`` -> the toolkit's platform (v11.6 view-user enum); email,
#: SMS and the other push types are ``other``.
SUBSCRIPTION_TYPES = {
    "iOSPush": "ios",
    "AndroidPush": "android",
    "ChromePush": "web",
    "FirefoxPush": "web",
    "SafariPush": "web",
    "SafariLegacyPush": "web",
}

#: ``kind`` of ``GET /notifications``: 0 dashboard, 1 API, 3 automated (v1.2.2
#: get_notifications ``kind`` enum [0, 1, 3]; v11.6 view-messages ``kind``).
NOTIFICATION_KINDS = {"dashboard": 0, "api": 1, "automated": 3}

#: Payload keys that would change who gets a push; targeting is the client's job, not the payload's.
_TARGETING_KEYS = frozenset(
    {
        "app_id",
        "include_external_user_ids",
        "include_aliases",
        "include_player_ids",
        "include_subscription_ids",
        "included_segments",
        "excluded_segments",
        "filters",
        "target_channel",
        "channel_for_external_user_ids",
        "external_id",
        "idempotency_key",
    }
)

#: Platform -> flag. Every flag not chosen is sent as False (reference §2.1 platform filters).
_PLATFORM_FLAGS = {"ios": "isIos", "android": "isAndroid", "web": "isAnyWeb"}
_OTHER_FLAGS = ("isHuawei", "isWP_WNS", "isAdm")
_WEB_SUB_FLAGS = ("isChromeWeb", "isFirefox", "isSafari")

#: Error texts that mean "your key is wrong" even though the status is 400 (legacy host).
_AUTH_TEXTS = (
    "case-sensitive header of authorization",
    "access denied",
    "requires 'authorization'",
)

#: Error texts that mean "this app id is unknown" (sandbox and OneSignal wordings, any status).
_APP_NOT_FOUND_TEXTS = (
    "app_id not found",
    "app not found",
    "app-not-found",
    "invalid app_id",
    "invalid app id",
    "app_id is invalid",
    "couldn't find app",
    "could not find app",
)

#: Hints in OneSignal's own error texts that mislead here (our client always sends the header).
_MISLEADING_HINTS = re.compile(
    r"\s*You may be missing a Content-Type: application/json header\.?", re.IGNORECASE
)

_APP_IN_PATH = re.compile(r"(?:[?&]app_id=|/apps/)([^/?&#]+)")

_NOT_JSON = object()


def platform_flags(platforms: tuple[str, ...] | list[str] | None) -> dict[str, bool]:
    """Map ``("ios", "web")`` to OneSignal's ``isIos``/``isAnyWeb``/... flags (empty = no filter)."""
    if platforms is None:
        return {}
    chosen = set(platforms)
    unknown = chosen - set(PLATFORMS)
    if unknown:
        raise ValidationError(
            f"Unknown platform(s) {sorted(unknown)}; use any of {list(PLATFORMS)} or None for all."
        )
    if not chosen:
        raise ValidationError(
            "platforms=() would reach nobody; pass None to target every platform."
        )
    flags = {flag: name in chosen for name, flag in _PLATFORM_FLAGS.items()}
    flags.update(dict.fromkeys(_OTHER_FLAGS, False))
    if "web" not in chosen:
        flags.update(dict.fromkeys(_WEB_SUB_FLAGS, False))
    return flags


def decode_body(raw: bytes | str | None) -> Any:
    """JSON-decode a response body; a body that is not JSON comes back as its text (or None)."""
    if not raw:
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
        return text.strip()[:500] or None


def flatten_errors(errors: Any) -> list[str]:
    """Turn any shape of OneSignal's ``errors`` into a flat list of readable strings."""
    if errors is None or errors == "" or errors == [] or errors == {}:
        return []
    if isinstance(errors, str):
        return [errors]
    if isinstance(errors, Mapping):
        out: list[str] = []
        for key, value in errors.items():
            if isinstance(value, Mapping):  # invalid_aliases: {"external_id": [...]}
                for label, ids in value.items():
                    out.append(_ids_text(f"{key}.{label}", ids))
            elif isinstance(value, list):
                out.append(_ids_text(str(key), value))
            else:
                out.append(f"{key}: {value}")
        return out
    if isinstance(errors, list | tuple):
        out = []
        for item in errors:
            if isinstance(item, Mapping):
                title, code = item.get("title"), item.get("code")
                if title and code and code != title:
                    out.append(f"{title} ({code})")
                elif title or code:
                    out.append(str(title or code))
                elif item:
                    out.append(orjson.dumps(item).decode())
            elif item not in (None, ""):
                out.append(str(item))
        return out
    return [str(errors)]


def _int(value: Any) -> int | None:
    """An integer count from a JSON number; None for anything else (bool, NaN, text)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return int(value)
    except (ValueError, OverflowError):
        return None


def _text_int(value: Any) -> int | None:
    """An integer from a CSV cell or a JSON number ("1", "-2", 1); None when it is not one."""
    if isinstance(value, str):
        try:
            return int(float(value.strip()))
        except (ValueError, OverflowError):
            return None
    return _int(value)


def _number(value: Any) -> float | None:
    """A finite JSON number (int or float) as a float; None for anything else."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if number == number and abs(number) != float("inf") else None


def platform_counts(value: Any) -> dict[str, dict[str, int]]:
    """``platform_delivery_stats`` as ``{platform: {counter: int}}``: each platform key as
    OneSignal sends it (web browsers apart, v1.2.2 ``PlatformDeliveryData``), null or
    non-integer counters dropped (v1.2.2 ``DeliveryData``: every counter is nullable)."""
    if not isinstance(value, Mapping):
        return {}
    out: dict[str, dict[str, int]] = {}
    for platform, counts in value.items():
        if not isinstance(counts, Mapping):
            continue
        out[str(platform)] = {str(k): n for k, v in counts.items() if (n := _int(v)) is not None}
    return out


def _ids_text(label: str, ids: Any) -> str:
    ids = list(ids) if isinstance(ids, list | tuple) else [ids]
    shown = ", ".join(str(i) for i in ids[:5])
    more = f" and {len(ids) - 5} more" if len(ids) > 5 else ""
    return f"{label}: {shown}{more}"


def _ids_in_text(text: str, targeted: Iterable[str] | None) -> list[str]:
    """The ids a ``invalid_external_user_ids`` *string* names.

    v11.6 types ``warnings.invalid_external_user_ids`` as a string ("external_ids whose
    subscriptions are unsubscribed") without saying how several ids are joined. Undocumented,
    so the safer reading: a JSON array in a string, else comma-separated ids; when the
    request's ids are known, only ids that were targeted count (the whole text counts too, so
    an id holding a comma is still found), so a misread never marks a stranger.
    """
    text = text.strip()
    parts: list[str] = []
    if text.startswith("["):
        try:
            loaded = orjson.loads(text)
        except orjson.JSONDecodeError:
            loaded = None
        if isinstance(loaded, list):
            parts = [str(i) for i in loaded if i is not None]
    if not parts:
        parts = [text, *(p.strip() for p in text.split(","))]
    parts = [p for p in parts if p]
    if targeted is not None:
        wanted = set(targeted)
        parts = [p for p in parts if p in wanted]
    elif "," in text and not text.startswith("["):
        parts = parts[1:]  # without the request's ids, the comma reading wins
    return parts


def invalid_ids(errors: Any, targeted: Iterable[str] | None = None) -> list[str]:
    """External ids OneSignal reported as unsubscribed, from either generation's shape.

    Reads ``invalid_external_user_ids`` (a list, or a string: v11.6 ``warnings``) and
    ``invalid_aliases.external_id``. An id is listed once per unsubscribed subscription
    (v11.6 200 example), so each comes back once; a listed person may still have been reached
    on another device. ``targeted``: the request's ids, used to read the string form.
    """
    if not isinstance(errors, Mapping):
        return []
    found: list[str] = []
    legacy = errors.get("invalid_external_user_ids")
    if isinstance(legacy, list):
        found.extend(str(i) for i in legacy)
    elif isinstance(legacy, str):
        found.extend(_ids_in_text(legacy, targeted))
    aliases = errors.get("invalid_aliases")
    if isinstance(aliases, Mapping) and isinstance(aliases.get("external_id"), list):
        found.extend(str(i) for i in aliases["external_id"])
    return list(dict.fromkeys(found))  # an id repeats once per unsubscribed subscription


def not_cancellable(exc: APIError, notification_id: str) -> NotCancellable:
    """The typed error for a 400 answer to cancel (``exc`` is the transport's APIError)."""
    said = "; ".join(exc.errors) or "no error text"
    return NotCancellable(
        f"Notification {notification_id} cannot be cancelled: it was already delivered "
        "(OneSignal cancels only scheduled or still-sending messages). Nothing was changed; "
        "to reach people again, send a new message. "
        f"OneSignal said: {said}",
        notification_id=notification_id,
        status=exc.status,
        errors=exc.errors,
        body=exc.body,
    )


#: OneSignal's answer when a user would hold more tags than the plan allows ("App is limited to
#: a maximum of 20 tags on a given player"; free plans allow fewer). Sources: OneSignal-iOS-SDK
#: issue 1306, OneSignal-Flutter-SDK issue 677 (reference/onesignal-behaviour-sources.md).
_TAG_CAP_RE = re.compile(r"limited to a maximum of (\d+) tags", re.I)


def error_for(
    status: int,
    body: Any,
    *,
    method: str,
    path: str,
    retry_after: float | None = None,
    attempts: int = 1,
    app_id: str | None = None,
) -> APIError:
    """The typed error for an HTTP error answer, with a message that says how to fix it.

    Our advice comes first; OneSignal's own text follows as ``OneSignal said: ...`` (still in
    full in ``.errors`` and ``.body``). ``app_id`` names the app in an "unknown app" message
    (default: the one in ``path``, when there is one).
    """
    errors = flatten_errors(body.get("errors") if isinstance(body, Mapping) else body)
    said = "; ".join(errors) if errors else "no error text"
    where = f"{method} {path}"
    lowered = said.lower()
    if status in (401, 403) or (status == 400 and any(t in lowered for t in _AUTH_TEXTS)):
        return AuthError(
            f"OneSignal refused the credentials (HTTP {status} on {where}). Check "
            f"{ENV_KEY} and {ENV_APP_ID} in the environment or .env (OneSignal dashboard: "
            "Settings > Keys & IDs): the key must belong to this app, and the legacy API "
            f"(api='legacy') needs the app's REST API key. OneSignal said: {said}",
            status=status,
            errors=errors,
            body=body,
        )
    if is_app_not_found(status, said):
        return APIError(
            app_not_found_text(app_id or _app_in_path(path), status=status, where=where, said=said),
            status=status,
            errors=errors,
            body=body,
        )
    tries = f" after {attempts} attempts" if attempts > 1 else ""
    if status == 429:
        wait = f"; it asked to wait {retry_after:g} s" if retry_after is not None else ""
        return RateLimited(
            f"OneSignal kept rate-limiting {where}{tries} (HTTP 429: {said}{wait}). Lower the "
            "client's rate_limits= or max_workers=, or try again later.",
            retry_after=retry_after,
            status=status,
            errors=errors,
            body=body,
        )
    if status >= 500:
        hint = "OneSignal had a server problem; try again later (the same idempotency key is safe)."
    elif status == 404:
        hint = "Nothing by that id in this app: check the id and that ONESIGNAL_APP_ID is right."
    elif status == 409:
        hint = "The request conflicts with the user's current state (see the error text)."
    elif (cap := _TAG_CAP_RE.search(said)) is not None:
        hint = (
            f"Your OneSignal plan caps tags at {cap.group(1)} per user, counting the tags they "
            "already have, even for updates and deletes. Sync fewer tags (TagSync(tags=[...])), "
            "delete tags you no longer use, or raise the cap in your plan."
        )
    else:
        hint = "Fix the request as the error text says; retrying the same request will not help."
    return APIError(
        f"OneSignal answered HTTP {status} to {where}{tries}: {said}. {hint}",
        status=status,
        errors=errors,
        body=body,
    )


def is_app_not_found(status: int | None, said: str) -> bool:
    """True when an error answer says OneSignal does not know the app id."""
    lowered = said.lower()
    return (
        status is not None
        and 400 <= status < 500
        and status != 429
        and any(t in lowered for t in _APP_NOT_FOUND_TEXTS)
    )


def app_not_found_text(app_id: str | None, *, status: int | None, where: str, said: str) -> str:
    """The message for "OneSignal does not know this app id" (without OneSignal's wrong hint)."""
    which = f"app id {app_id!r}" if app_id else "the app id it was given"
    said = _MISLEADING_HINTS.sub("", said).strip() or "app_id not found"
    return (
        f"OneSignal does not know {which} (HTTP {status} on {where}). Check {ENV_APP_ID} "
        "(OneSignal dashboard: Settings > Keys & IDs) and that the API key belongs to that "
        "app. Retrying will not help until that is fixed. "
        f"OneSignal said: {said}"
    )


def _app_in_path(path: str) -> str | None:
    match = _APP_IN_PATH.search(path)
    return match.group(1) if match else None


class Dialect:
    """One API generation's paths, bodies, auth scheme and response parsing."""

    name = ""
    max_ids = 0
    auth_scheme = ""
    prefix = ""
    tag_method = ""

    def auth_header(self, api_key: str) -> str:
        return f"{self.auth_scheme} {api_key}"

    # -- paths ------------------------------------------------------------------------------

    def notifications_path(self) -> str:
        return f"{self.prefix}/notifications"

    def notification_path(self, notification_id: str, app_id: str) -> str:
        return f"{self.prefix}/notifications/{quote(notification_id, safe='')}?app_id={app_id}"

    def notifications_list_path(
        self, app_id: str, *, limit: int, offset: int, kind: int | None = None
    ) -> str:
        """``GET`` path of one page of notifications (v1.2.2 get_notifications; v11.6
        view-messages): ``?app_id&limit&offset`` and ``kind`` when given."""
        path = f"{self.prefix}/notifications?app_id={quote(app_id, safe='')}"
        path += f"&limit={int(limit)}&offset={int(offset)}"
        return path + (f"&kind={int(kind)}" if kind is not None else "")

    def templates_path(
        self,
        app_id: str,
        template_id: str | None = None,
        *,
        limit: int | None = None,
        offset: int | None = None,
        channel: str | None = None,
    ) -> str:
        """Templates route (v11.6 only: ``/templates?app_id&limit&offset[&channel]``,
        ``/templates/{id}?app_id``, ``POST /templates``); both dialects send it to the current
        API, as for users (the legacy v1.2.2 spec has no templates)."""
        if template_id is not None:
            return f"/templates/{quote(template_id, safe='')}?app_id={quote(app_id, safe='')}"
        if limit is None:
            return "/templates"
        path = f"/templates?app_id={quote(app_id, safe='')}&limit={int(limit)}"
        path += f"&offset={int(offset or 0)}"
        return path + (f"&channel={quote(channel, safe='')}" if channel else "")

    def tags_path(self, app_id: str, external_id: str) -> str:
        raise NotImplementedError

    def user_path(self, app_id: str, external_id: str) -> str:
        # View user exists only in the User Model API; both dialects read users through it.
        return f"/apps/{app_id}/users/by/external_id/{quote(external_id, safe='')}"

    def export_path(self, app_id: str) -> str:
        """``POST`` path of the subscription CSV export (v1.2.2 export_players; v11.6
        csv-export): the app id goes in the query string on both generations."""
        return f"{self.prefix}/players/csv_export?app_id={quote(app_id, safe='')}"

    def export_body(self) -> dict[str, Any]:
        """The export request: every subscription of the app, with :data:`EXPORT_FIELDS`."""
        return {"extra_fields": list(EXPORT_FIELDS)}

    def export_url(self, body: Any) -> str:
        """The ``csv_file_url`` of an export answer; :class:`APIError` when it has none."""
        url = body.get("csv_file_url") if isinstance(body, Mapping) else None
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            raise APIError(
                f"OneSignal's subscription export gave no csv_file_url ({str(body)[:200]!r}). "
                "Try again in a few minutes (one export runs at a time per account), or pass "
                "reachability='skip'.",
                status=None,
                body=body,
            )
        return url

    def export_rows(self, raw: bytes) -> list[Subscription]:
        """The subscriptions in an export file (gzip CSV, or plain CSV): one per device.

        A device is subscribed when ``invalid_identifier`` is ``f`` (v1.2.2: "t =
        unsubscribed, f = subscibed") and ``notification_types``, when present, is positive
        (v11.6: 1 subscribed, negative values are the reasons it is not).
        """
        import csv
        import gzip
        import io

        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
        text = raw.decode("utf-8-sig", "replace")
        out = []
        for row in csv.DictReader(io.StringIO(text)):
            kind = _text_int(row.get("device_type"))
            types = _text_int(row.get("notification_types"))
            valid = (row.get("invalid_identifier") or "f").strip().lower() in ("f", "false", "0")
            out.append(
                Subscription(
                    external_id=(row.get("external_user_id") or "").strip() or None,
                    platform=DEVICE_TYPES.get(kind, "other") if kind is not None else "other",
                    subscribed=valid and (types is None or types > 0),
                    id=row.get("id") or "",
                )
            )
        return out

    def user_subscriptions(self, body: Any, external_id: str) -> list[Subscription]:
        """The push subscriptions of a view-user answer (``enabled`` and ``notification_types``
        of each; v11.6 view-user)."""
        subs = body.get("subscriptions") if isinstance(body, Mapping) else None
        out = []
        for sub in subs if isinstance(subs, list) else ():
            if not isinstance(sub, Mapping):
                continue
            types = _text_int(sub.get("notification_types"))
            out.append(
                Subscription(
                    external_id=external_id,
                    platform=SUBSCRIPTION_TYPES.get(str(sub.get("type")), "other"),
                    subscribed=sub.get("enabled") is True and (types is None or types > 0),
                    id=str(sub.get("id") or ""),
                )
            )
        return out

    # -- bodies -----------------------------------------------------------------------------

    def notification_body(self, app_id: str, req: NotificationRequest) -> dict[str, Any]:
        """The create-notification body of ``req``: app id, payload, targeting, idempotency key
        and platform flags. The one encoder: the client sends it, and a campaign's plan shows it
        as its sample request, so the plan shows exactly what goes out."""
        clash = _TARGETING_KEYS.intersection(req.payload)
        if clash:
            raise ValidationError(
                f"The message payload sets {sorted(clash)}; targeting, app id and idempotency "
                "key are set by the client. Remove them from the payload."
            )
        check_payload(req.payload)
        if req.targets_ids:
            if not req.external_ids:
                raise ValidationError("A notification request needs at least one external id.")
            if len(req.external_ids) > self.max_ids:
                raise ValidationError(
                    f"{len(req.external_ids):,} external ids in one request; the {self.name} "
                    f"API takes at most {self.max_ids:,}. Use send_push(), which splits for you."
                )
            targeting = self._targeting(list(req.external_ids), req.idempotency_key)
        else:
            targeting = self._audience(req)
        body = {"app_id": app_id, **self.encode_payload(req.payload)}
        body.update(targeting)
        body.update(platform_flags(req.platforms))
        return body

    def _audience(self, req: NotificationRequest) -> dict[str, Any]:
        """Segment or filter targeting, checked: one method per message (v11.6
        ``included_segments``/``filters``: "Not compatible with any other targeting")."""
        if req.external_ids:
            raise ValidationError(
                "A request targets external ids or segments/filters, not both; OneSignal "
                "takes one targeting method per message. Use send_push() for ids."
            )
        if req.filters and (req.included_segments or req.excluded_segments):
            raise ValidationError(
                "filters cannot be combined with included_segments/excluded_segments "
                "(one targeting method per message); express the segment as a tag filter, "
                "or send twice."
            )
        out: dict[str, Any] = {}
        if req.filters:
            out["filters"] = [dict(f) for f in check_filters(req.filters)]
        else:
            included = check_segments("included_segments", req.included_segments)
            excluded = check_segments("excluded_segments", req.excluded_segments)
            if not included:
                raise ValidationError(
                    "excluded_segments only narrows included_segments; add "
                    "included_segments=['Subscribed Users'] (everyone) or the segment you mean."
                )
            out["included_segments"] = list(included)
            if excluded:
                out["excluded_segments"] = list(excluded)
        out.update(self._audience_extras(req.idempotency_key))
        return out

    def _audience_extras(self, key: str) -> dict[str, Any]:
        raise NotImplementedError

    def encode_payload(self, payload: dict[str, Any]) -> dict[str, Any]:
        """The payload's fields as this generation spells them (the same, unless overridden)."""
        return dict(payload)

    def _targeting(self, ids: list[str], key: str) -> dict[str, Any]:
        raise NotImplementedError

    def tags_body(self, tags: Mapping[str, str]) -> dict[str, Any]:
        raise NotImplementedError

    # -- responses --------------------------------------------------------------------------

    def notification_response(
        self, req: NotificationRequest | None, status: int, body: Any, headers: Mapping[str, str]
    ) -> NotificationResponse:
        """Parse a 2xx create-notification answer (any ``errors`` shape, ``id`` possibly "")."""
        replayed = str(headers.get("Idempotent-Replayed", "")).lower() == "true"
        if not isinstance(body, Mapping):
            err = APIError(
                f"OneSignal answered HTTP {status} with a body that is not a JSON object "
                f"({str(body)[:80]!r}); it is unknown whether the push was created. Resend the "
                "same request: its idempotency key makes that safe.",
                status=status,
                body=body,
            )
            return NotificationResponse(request=req, status=status, error=err, replayed=replayed)
        raw_errors = body.get("errors")
        warnings = body.get("warnings")
        targeted = req.external_ids if req is not None else None
        invalid = invalid_ids(raw_errors, targeted) + invalid_ids(warnings, targeted)
        recipients = body.get("recipients")
        return NotificationResponse(
            request=req,
            id=str(body.get("id") or ""),
            status=status,
            recipients=_int(recipients),
            invalid_external_ids=tuple(dict.fromkeys(invalid)),
            errors=tuple(flatten_errors(raw_errors)),
            warnings=tuple(flatten_errors(warnings)),
            replayed=replayed,
        )

    def tag_edit_ok(self, status: int, body: Any) -> bool:
        """True when a 2xx tag-edit answer means the tags were stored."""
        if isinstance(body, Mapping) and body.get("success") is False:
            return False
        return 200 <= status < 300

    def stats(self, body: Any) -> NotificationStats:
        body = body if isinstance(body, Mapping) else {}

        def count(name: str) -> int:
            return _int(body.get(name)) or 0

        throttle = body.get("throttle_rate_per_minute")
        name = body.get("name")
        return NotificationStats(
            id=str(body.get("id") or ""),
            successful=count("successful"),
            failed=count("failed"),
            errored=count("errored"),
            converted=count("converted"),
            remaining=_int(body.get("remaining")),
            completed_at=_int(body.get("completed_at")),
            canceled=bool(body.get("canceled")),
            platform_delivery_stats=platform_counts(body.get("platform_delivery_stats")),
            raw=dict(body),
            received=_int(body.get("received")),
            queued_at=_int(body.get("queued_at")),
            send_after=_int(body.get("send_after")),
            name=name if isinstance(name, str) else None,
            throttle_rate_per_minute=_number(throttle),
        )

    def notification_page(self, body: Any, *, limit: int, offset: int) -> NotificationPage:
        """Parse one page of ``GET /notifications`` (v1.2.2 ``NotificationSlice``)."""
        items, page = _page(body, "notifications", self.stats, limit=limit, offset=offset)
        return NotificationPage(notifications=items, **page)

    def template(self, body: Any) -> Template:
        """Parse a template (v11.6 ``TemplateResource``; list items carry fewer fields)."""
        body = body if isinstance(body, Mapping) else {}

        def text(name: str) -> str | None:
            value = body.get(name)
            return value if isinstance(value, str) else None

        content = body.get("content")
        return Template(
            id=str(body.get("id") or ""),
            name=text("name"),
            channel=text("channel"),
            created_at=text("created_at"),
            updated_at=text("updated_at"),
            content=dict(content) if isinstance(content, Mapping) else {},
            raw=dict(body),
        )

    def template_page(self, body: Any, *, limit: int, offset: int) -> TemplatePage:
        """Parse one page of ``GET /templates`` (v11.6 view-templates)."""
        items, page = _page(body, "templates", self.template, limit=limit, offset=offset)
        return TemplatePage(templates=items, **page)


def _page(
    body: Any, key: str, parse: Any, *, limit: int, offset: int
) -> tuple[tuple, dict[str, int | None]]:
    """(parsed items under ``key``, total_count/offset/limit) of one page of a list answer;
    what the answer leaves out falls back to what was asked."""
    body = body if isinstance(body, Mapping) else {}
    items = body.get(key)
    items = items if isinstance(items, list) else []
    said_offset = _int(body.get("offset"))
    return tuple(parse(i) for i in items if isinstance(i, Mapping)), {
        "total_count": _int(body.get("total_count")),
        "offset": said_offset if said_offset is not None else offset,
        "limit": _int(body.get("limit")) or limit,
    }


class _Legacy(Dialect):
    name = "legacy"
    max_ids = limits.LEGACY_MAX_EXTERNAL_IDS
    auth_scheme = "Basic"
    prefix = "/api/v1"
    tag_method = "PUT"

    def tags_path(self, app_id: str, external_id: str) -> str:
        return f"/api/v1/apps/{app_id}/users/{quote(external_id, safe='')}"

    def _targeting(self, ids: list[str], key: str) -> dict[str, Any]:
        return {
            "include_external_user_ids": ids,
            "channel_for_external_user_ids": "push",
            "external_id": key,
        }

    def _audience_extras(self, key: str) -> dict[str, Any]:
        # channel_for_external_user_ids belongs to external-id targeting only (v1.2.2).
        return {"external_id": key}

    def encode_payload(self, payload: dict[str, Any]) -> dict[str, Any]:
        # v1.2.2 types throttle_rate_per_minute as a string; v11.6 as a number.
        out = dict(payload)
        throttle = out.get("throttle_rate_per_minute")
        if isinstance(throttle, int | float) and not isinstance(throttle, bool):
            whole = isinstance(throttle, int) or throttle.is_integer()
            out["throttle_rate_per_minute"] = str(int(throttle)) if whole else str(throttle)
        return out

    def tags_body(self, tags: Mapping[str, str]) -> dict[str, Any]:
        return {"tags": dict(tags)}


class _Current(Dialect):
    name = "current"
    max_ids = limits.CURRENT_MAX_ALIASES
    auth_scheme = "Key"
    prefix = ""
    tag_method = "PATCH"

    def tags_path(self, app_id: str, external_id: str) -> str:
        return self.user_path(app_id, external_id)

    def _targeting(self, ids: list[str], key: str) -> dict[str, Any]:
        return {
            "include_aliases": {"external_id": ids},
            "target_channel": "push",
            "idempotency_key": key,
        }

    def _audience_extras(self, key: str) -> dict[str, Any]:
        # v11.6 target_channel is "required when using include_aliases" and defaults to push;
        # sent with segments and filters too, so a push never goes out on another channel.
        return {"target_channel": "push", "idempotency_key": key}

    def tags_body(self, tags: Mapping[str, str]) -> dict[str, Any]:
        return {"properties": {"tags": dict(tags)}}


LEGACY: Dialect = _Legacy()
CURRENT: Dialect = _Current()


def dialect_for(api: str) -> Dialect:
    """The dialect for ``"legacy"`` or ``"current"``."""
    if api == "legacy":
        return LEGACY
    if api == "current":
        return CURRENT
    raise ValidationError(f"api must be 'current' or 'legacy', not {api!r}.")
