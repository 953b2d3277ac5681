"""OneSignal API limits as named constants, each with where the number comes from.

Shared by the client (to split and validate before sending) and the sandbox (to reject what the
real API rejects). Sources: OneSignal's REST reference pages and the two OpenAPI specs kept in the
project's reference folder (legacy v1.2.2 ``api.json`` and the documentation spec v11.6).
"""

from __future__ import annotations

#: ``include_external_user_ids`` on legacy ``POST /api/v1/notifications``: 2,000 ids per call
#: (v1.2.2 spec, Notification schema; "Create notification" reference).
LEGACY_MAX_EXTERNAL_IDS = 2_000

#: ``include_aliases.external_id`` on current ``POST /notifications``: 20,000 aliases per call
#: ("Push notification" reference, targeting section).
CURRENT_MAX_ALIASES = 20_000

#: Tags changed in one edit-tags / update-user request (v1.2.2 spec "100 tags per call";
#: rate-limit page "100 property updates per request").
MAX_TAGS_PER_REQUEST = 100

#: Action buttons per notification ("Push notification" reference: ``buttons`` max 3).
MAX_BUTTONS = 3

#: Keys an action button may have: v11.6 ``buttons`` items ``{id, text, icon}``,
#: ``required: [id, text]``, ``additionalProperties: false``.
BUTTON_KEYS = frozenset({"id", "text", "icon"})

#: Web buttons per notification (Chrome only; same reference: ``web_buttons`` max 2).
MAX_WEB_BUTTONS = 2

#: Keys a web button may have: v11.6 ``web_buttons`` items ``{id, text, url}`` (all three
#: required, ``additionalProperties: false``); v1.2.2 ``web_buttons`` also documents ``icon``,
#: so the union of both documents is allowed.
WEB_BUTTON_KEYS = frozenset({"id", "text", "url", "icon"})

#: ``priority``: v11.6 ``enum: [10, 5]`` (10 high, the default; 5 normal).
PRIORITIES = frozenset({5, 10})

#: ``ios_badgeType``: v11.6 ``enum: ["None", "SetTo", "Increase"]`` (default "None").
IOS_BADGE_TYPES = frozenset({"None", "SetTo", "Increase"})

#: ``collapse_id``: "Limit of 64 characters" (v1.2.2 ``BasicNotification.collapse_id``).
MAX_COLLAPSE_ID_CHARS = 64

#: ``filters``: "Limited to 200 total entries, including fields and OR operators" (v11.6
#: ``filters``, ``maxItems: 200``; reference onesignal-api.md §4.1).
MAX_FILTERS = 200

#: Relations a ``tag`` filter takes: v1.2.2 ``Filter.relation`` enum. (v11.6 adds
#: ``in_array``/``not_in_array`` to the shared enum, but documents them for no tag use, so the
#: client refuses them on tags: the safer reading, a mistyped audience is never sent.)
TAG_FILTER_RELATIONS = frozenset(
    {">", "<", "=", "!=", "exists", "not_exists", "time_elapsed_gt", "time_elapsed_lt"}
)

#: Notifications one ``GET /notifications`` page holds: "The maximum and default is 50" (v11.6
#: view-messages ``limit``; v1.2.2 get_notifications "Max is 50. Default is 50").
MAX_NOTIFICATIONS_PER_PAGE = 50

#: Templates one ``GET /templates`` page holds: "The default (if omitted) and maximum is 50"
#: (v11.6 view-templates ``limit``).
MAX_TEMPLATES_PER_PAGE = 50

#: Bytes of ``data`` / ``custom_data`` on a push (both specs: 2,048 bytes for push and SMS).
MAX_DATA_BYTES = 2_048

#: ``ttl`` range in seconds: default 3 days, at most 28 days (both specs).
DEFAULT_TTL_SECONDS = 259_200
MAX_TTL_SECONDS = 2_419_200

#: ``name`` of a message: at most 128 characters (current spec).
MAX_NAME_CHARS = 128

#: Idempotency keys are honoured for 30 days ("Idempotent notification requests" reference).
IDEMPOTENCY_WINDOW_SECONDS = 30 * 24 * 3600

#: Per-app request budgets ("Rate limits" reference): create-message on the free plan 150/s
#: (paid plans: 6,000/s, pass ``rate_limits={"create": 6000}``); user and tag updates 1,000/s per
#: app and 1/s per user; view calls 1/s.
CREATE_NOTIFICATION_PER_SECOND_FREE = 150
USER_UPDATES_PER_SECOND = 1_000
USER_UPDATES_PER_USER_PER_SECOND = 1
VIEW_PER_SECOND = 1

#: Tag keys OneSignal reserves for personalization; a tag with one of these names cannot be
#: used as a bare Liquid variable ("Add user data tags" reference).
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
