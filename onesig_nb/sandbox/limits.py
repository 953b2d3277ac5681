"""The sandbox's own table of OneSignal's limits and behaviours, each with where it comes from.

The sandbox is a witness of OneSignal, not the client's twin: it reads none of the client's
constants. Every value here cites a primary source: ``v11.6`` is the documentation OpenAPI
(``reference/specs/onesignal-docs-openapi-v11.6.json``), ``v1.2.2`` the legacy ``api.json``
(``reference/specs/onesignal-openapi-v1.2.2.json``), ``docs:`` a documentation.onesignal.com
page; issue numbers are GitHub threads. Where OneSignal documents nothing, :data:`BEHAVIOURS`
says so, names the reading the sandbox takes (the safer one: what fails here is fixed before
going live) and the live contract (``tests/contract``) checks it against a real app.

``tests/sandbox/test_independence.py`` compares these values with the client's
(``onesig_nb/onesignal/limits.py``) one by one and lists every difference with its reason.
"""

from __future__ import annotations

#: ``include_external_user_ids`` (legacy ``POST /api/v1/notifications``): 2,000 ids per call.
#: Source: v1.2.2 ``Notification.include_external_user_ids`` ("Limit of 2,000 entries").
LEGACY_MAX_EXTERNAL_IDS = 2_000

#: ``include_aliases`` (current ``POST /notifications``): up to 20,000 users per call.
#: Source: v11.6 ``/notifications?c=push`` ``include_aliases`` ("Target up to 20,000 users").
CURRENT_MAX_ALIASES = 20_000

#: Tags changed in one request. Source: v1.2.2 ``/apps/{app_id}/users/{external_user_id}``
#: ("100 tags per call"); docs: rate-limits ("100 property updates per request").
MAX_TAGS_PER_REQUEST = 100

#: Tags one user may hold: limited by plan. "App is limited to a maximum of 20 tags on a given
#: player" (OneSignal-iOS-SDK issue 1306, 2023); free plans fewer (10 from 2019-12-01: blog
#: "sustainably growing the OneSignal community"; 2 on a later blog post "data integration and
#: tagging"). The sandbox default is the most recent number seen in an error; pass
#: ``Sandbox(max_tags=...)`` for your plan (None = no cap).
DEFAULT_MAX_TAGS_PER_USER = 20
#: The error text, verbatim from OneSignal-iOS-SDK issue 1306 (``{n}`` = the cap).
TAG_CAP_ERROR = "App is limited to a maximum of {n} tags on a given player"

#: Action buttons. Source: v11.6 ``buttons`` ``maxItems: 3``, items ``{id, text, icon}``,
#: ``required: [id, text]``, ``additionalProperties: false``.
MAX_BUTTONS = 3
BUTTON_KEYS = frozenset({"id", "text", "icon"})

#: Chrome web buttons. Source: v11.6 ``web_buttons`` ``maxItems: 2``, ``required: [id, text,
#: url]``, ``additionalProperties: false``; v1.2.2 also documents ``icon`` on web buttons, so
#: the sandbox allows the union of both documents' keys.
MAX_WEB_BUTTONS = 2
WEB_BUTTON_KEYS = frozenset({"id", "text", "url", "icon"})
WEB_BUTTON_REQUIRED = ("id", "text", "url")

#: ``priority``: ``enum: [10, 5]``, default 10. Source: v11.6 ``priority``.
PRIORITIES = frozenset({5, 10})

#: Bytes of ``data`` / ``custom_data`` on a push. Source: v11.6 ``custom_data`` ("Max size:
#: 2KB (Push/SMS)"); v1.2.2 ``data`` ("up to 2048 bytes").
MAX_DATA_BYTES = 2_048

#: ``ttl`` in seconds: default 3 days, at most 28 days. Source: v11.6 ``ttl``.
DEFAULT_TTL_SECONDS = 259_200
MAX_TTL_SECONDS = 2_419_200

#: ``name``: at most 128 characters. Source: v11.6 ``name``.
MAX_NAME_CHARS = 128

#: ``filters``: at most 200 entries, fields and ``OR`` operators together. Source: v11.6
#: ``filters`` (``maxItems: 200``, "Limited to 200 total entries").
MAX_FILTERS = 200

#: Relations of a filter on a tag. Source: v1.2.2 ``Filter.relation`` enum; v11.6 adds
#: ``in_array``/``not_in_array`` to the shared enum but documents them for no tag use, so a
#: tag filter with them is refused (the safer reading: a mistyped audience is never sent).
TAG_FILTER_RELATIONS = frozenset(
    {">", "<", "=", "!=", "exists", "not_exists", "time_elapsed_gt", "time_elapsed_lt"}
)
#: Filter fields the sandbox can evaluate (it has tags and subscription languages, no
#: sessions or locations). Source: v11.6 ``filters[].field`` enum (a subset of it).
SANDBOX_FILTER_FIELDS = frozenset({"tag", "language"})

#: Messages or templates one list page holds: "The maximum and default is 50" (v11.6
#: view-messages ``limit``; v1.2.2 get_notifications "Max is 50"); view-templates answers
#: 400 "Invalid limit, must be within 1 to 50".
MAX_PAGE_LIMIT = 50
MAX_NOTIFICATIONS_PER_PAGE = MAX_PAGE_LIMIT
MAX_TEMPLATES_PER_PAGE = MAX_PAGE_LIMIT

#: ``ios_badgeType``: ``enum: ["None", "SetTo", "Increase"]``. Source: v11.6 ``ios_badgeType``.
IOS_BADGE_TYPES = frozenset({"None", "SetTo", "Increase"})

#: ``collapse_id``: "Limit of 64 characters". Source: v1.2.2 ``BasicNotification.collapse_id``.
MAX_COLLAPSE_ID_CHARS = 64

#: ``idempotency_key``: "Any RFC 9562 UUID supported. Valid for 30 days." Source: v11.6
#: ``idempotency_key``; v1.2.2 ``external_id`` ("only idempotent for 30 days").
IDEMPOTENCY_WINDOW_SECONDS = 30 * 24 * 3600

#: Requests per second per app, by endpoint group. Source: docs: rate-limits ("Create message
#: 150/s free, 6,000/s paid; users 1,000/s per app and 1/s per user; view messages 1/s with a
#: 10-request look-back").
CREATE_NOTIFICATION_PER_SECOND_FREE = 150
CREATE_NOTIFICATION_PER_SECOND_PAID = 6_000
USER_UPDATES_PER_SECOND = 1_000
USER_UPDATES_PER_USER_PER_SECOND = 1
VIEW_PER_SECOND = 1
#: the view group's "10 requests/sec look-back": a burst of 10 before 1/s applies.
VIEW_BURST = 10

#: Tag keys reserved for personalization. Source: docs: add-user-data-tags ("Restricted
#: keywords").
RESERVED_TAG_KEYS = frozenset(
    {
        "message",
        "notification",
        "subscription",
        "user",
        "template",
        "app",
        "org",
        "dynamic_content",
        "data_feed",
        "journey",
        "custom_data",
    }
)

#: A push's language when its subscription has none. Source: v11.6 ``contents`` (``en`` is
#: required, the fallback of every multi-language message); docs: multi-language-messaging.
DEFAULT_LANGUAGE = "en"

#: A subscription's time zone when none is known (``delayed_option: "timezone"``).
DEFAULT_TIMEZONE = "UTC"

#: Bounds on one Liquid render (not OneSignal's: they keep a runaway template, such as a loop
#: over ``(1..100000000)``, from hanging the sandbox; a push is a few hundred characters).
LIQUID_LOOP_ITERATION_LIMIT = 10_000
LIQUID_OUTPUT_STREAM_LIMIT = 100_000

#: Behaviours, documented or chosen, with their source. "chosen" = undocumented: the sandbox
#: takes the safer reading and the live contract checks it.
BEHAVIOURS: dict[str, dict[str, str]] = {
    "liquid_missing_values": {
        "sandbox": "render as empty text; the message is still sent",
        "source": "docs: using-liquid-syntax; personalization-api-custom-data",
    },
    "custom_data": {
        "sandbox": "message.custom_data.* renders only when the request has a template_id; "
        "without one it renders empty (the push is still sent)",
        "source": "v11.6 create-message custom_data ('Use with template_id'); docs: "
        "personalization-api-custom-data",
    },
    "template_fields": {
        "sandbox": "a push with template_id takes the template's content for the fields it "
        "does not set itself; an unknown template_id is 400",
        "source": "v11.6 create-message template_id; which side wins when both set a field is "
        "undocumented (chosen: the request, so no text the caller did not write is sent)",
    },
    "liquid_syntax_error_or_unknown_filter": {
        "sandbox": "400 for the whole request, nothing sent",
        "source": "chosen (undocumented). Safer reading: if live OneSignal refuses, the sandbox "
        "agrees; if live sends blank or raw text, a rehearsal that fails here is fixed before "
        "anyone gets a broken push. The client's lint stays the gate before sending.",
    },
    "tag_cap": {
        "sandbox": "refuse an edit whose result holds more than max_tags tags, even an update "
        "or a delete that leaves the user over the cap",
        "source": "blog 'sustainably growing the OneSignal community' ('API calls which would "
        "result in more than 10 data tags ... return an error'); OneSignal-iOS-SDK issue 1306 "
        "(errors on deletes while over the cap)",
    },
    "invalid_aliases": {
        "sandbox": "one entry per unsubscribed subscription, so a person reached on another "
        "device can be listed (legacy invalid_external_user_ids too)",
        "source": "v11.6 /notifications?c=push 200 example (user_id_1 listed twice)",
    },
    "cancel": {
        "sandbox": "200 while some deliveries are still scheduled; 400 once all were sent; "
        "200 again for an already canceled message; 404 for an unknown one",
        "source": "v11.6 cancel-message ('Stop a scheduled or currently outgoing message'; "
        "400 'Usually due to the message already being sent'); re-cancel: chosen",
    },
    "idempotency": {
        "sandbox": "current API: idempotency_key must parse as a UUID (400 otherwise); a key "
        "reused within 30 days replays the first answer even for another payload",
        "source": "v11.6 idempotency_key; v1.2.2 external_id ('a notification will not be "
        "sent, and result of the previous operation will instead be returned'); the "
        "different-payload case is undocumented: replaying never sends twice",
    },
    "language": {
        "sandbox": "each subscription's language picks the contents key, else en",
        "source": "docs: multi-language-messaging",
    },
    "url_path_ids": {
        "sandbox": "path segments are percent-decoded exactly once",
        "source": "docs: edit-tags-with-external-user-id (percent-encode, '/' as %2F)",
    },
    "scheduling": {
        "sandbox": "send_after, delayed_option timezone/last-active, delivery_time_of_day "
        "deliver when their time comes; view shows remaining > 0 and no completed_at until "
        "then; send_after as integer Unix time",
        "source": "v11.6 create-message and view-message; v1.2.2 NotificationWithMeta",
    },
    "send_after_without_zone": {
        "sandbox": "read as UTC",
        "source": "v11.6 send_after ('in UTC'); v1.2.2 says the API defaults to UTC-1100: "
        "always give an offset",
    },
    "tag_propagation": {
        "sandbox": "opt-in Sandbox(tag_delay_s=60): personalization reads the tags as they "
        "were that long before delivery",
        "source": "docs: edit-tags-with-external-user-id ('allow 60+ seconds')",
    },
    "url_https": {
        "sandbox": "url and web_url must start with https://",
        "source": "v11.6 url ('The https URL'), web_url ('Accepts URLs with protocol https://')",
    },
    "subtitle_languages": {
        "sandbox": "subtitle must have exactly the languages of contents",
        "source": "v11.6 subtitle ('must include the same languages as contents')",
    },
    "seeded_tag_values": {
        "sandbox": "JSON values become strings as JavaScript's String() does: true -> 'true', "
        "42.0 -> '42'",
        "source": "docs: add-user-data-tags (numbers '42', booleans 'true'/'false'); the "
        "integral-float case is chosen: JSON has one number type, 42.0 is 42",
    },
}

#: The subscription export (v11.6 csv-export; v1.2.2 export_players) is generated
#: asynchronously; its ``csv_file_url`` answers 404 until the file is ready (behaviour table,
#: docs: exporting-data; v1.2.2 says 403). "The file may take several minutes" (v1.2.2): the
#: sandbox makes it ready this many seconds after the request on its own clock
#: (``Sandbox.advance`` skips the wait) ...
EXPORT_READY_SECONDS = 60.0
#: ... or once this many looks at the URL were answered 404, so a rehearsal does not wait.
EXPORT_READY_POLLS = 2
#: The export's ``extra_fields`` values (v11.6 csv-export ``extra_fields`` enum).
EXPORT_EXTRA_FIELDS = frozenset(
    {
        "external_user_id",
        "onesignal_id",
        "location",
        "country",
        "rooted",
        "ip",
        "web_auth",
        "web_p256",
        "unsubscribed_at",
        "notification_types",
        "timezone_id",
    }
)
#: The export's default columns, in order (v1.2.2 export_players "CSV File Format").
EXPORT_COLUMNS = (
    "id", "identifier", "session_count", "language", "timezone", "game_version", "device_os",
    "device_type", "device_model", "ad_id", "tags", "last_active", "playtime", "amount_spent",
    "created_at", "invalid_identifier", "badge_count",
)  # fmt: skip
#: ``device_type`` of each sandbox platform (OneSignal device types: 0 iOS, 1 Android, 5 Chrome).
EXPORT_DEVICE_TYPES = {"ios": 0, "android": 1, "web": 5}

BEHAVIOURS["subscription_export"] = {
    "sandbox": "POST .../players/csv_export?app_id= answers {csv_file_url} at once; the URL "
    "(no auth, like a storage link) answers 404 until EXPORT_READY_SECONDS passed on the "
    "sandbox clock or EXPORT_READY_POLLS looks were made, then a gzip CSV of every "
    "subscription as it was at the request (invalid_identifier t/f; extra_fields as asked); "
    "segment_name is refused (the sandbox has no dashboard segments)",
    "source": "v11.6 csv-export; v1.2.2 export_players (403 until ready there; the behaviour "
    "table says 404: the client takes both); docs: exporting-data",
}
