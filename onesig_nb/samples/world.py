"""The fixed world every generator draws from: audience keys, the history clock, source and space
ids, and the catalogs (names, cities, products, pages, user agents) people and events are made of.
"""

from __future__ import annotations

from onesig_nb.samples.ids import b62_digest

AUDIENCES = ("cart_abandoners", "high_value_users", "new_signups", "churn_risk")
JOURNEY_KEY = "j_o_winback"
ALL_KEYS = (*AUDIENCES, JOURNEY_KEY)
CSV_AUDIENCES = ("cart_abandoners", "high_value_users")
#: Audiences whose ID Sync strategy is "last added": entries go to the newest anonymousId only,
#: exits go to every identifier combination (Segment docs: ID Sync does not apply to exits).
LAST_ADDED_KEYS = ("new_signups",)
#: Audiences only known (identified) users can be in; the others also have anonymous-only members.
KNOWN_ONLY_KEYS = ("high_value_users", "churn_risk", JOURNEY_KEY)

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
HISTORY_START_MS = 1_740_787_200_000  # 2025-03-01T00:00:00Z
HISTORY_DAYS = 30
HISTORY_END_MS = HISTORY_START_MS + HISTORY_DAYS * DAY_MS
AS_OF_MS = HISTORY_START_MS + 15 * DAY_MS + 12 * HOUR_MS  # 2025-03-16T12:00:00.000Z
FILE_WINDOW_MS = 6 * HOUR_MS  # four archive files per source per day: part-00/06/12/18.gz

WEB_SOURCE_ID = "qR7xK2mWp9"
ENGAGE_SOURCE_ID = "Zt4nE8vLc3"

SPACE_ID = "spa_" + b62_digest("onesig_nb space", 22)
COMPUTATION_IDS = {k: "aud_" + b62_digest(f"onesig_nb audience {k}", 27) for k in ALL_KEYS}

FIRST_NAMES = (
    "Ana", "Ben", "Chloé", "Dmitri", "Elena", "Farah", "Gustavo", "Hana", "Ivan", "Jonas",
    "Kemal", "Lucía", "Mateo", "Nadia", "Oskar", "Priya", "Quentin", "Rosa", "Sven", "Tomás",
    "Uma", "Valentina", "Wei", "Ximena", "Yusuf", "Zoé", "Léa", "Jürgen", "Amélie", "Carlos",
)  # fmt: skip
LAST_NAMES = (
    "Smith", "García", "Müller", "Dubois", "Rossi", "Kowalski", "Novak", "Silva", "Jensen",
    "O'Brien", "Nakamura", "Fischer", "Martin", "López", "Schmidt", "Bernard", "Costa", "Lee",
    "Ivanova", "Haddad",
)  # fmt: skip
CITIES = (
    ("New York", "US"), ("San Francisco", "US"), ("Austin", "US"), ("London", "GB"),
    ("Toronto", "CA"), ("Madrid", "ES"), ("Mexico City", "MX"), ("Buenos Aires", "AR"),
    ("Berlin", "DE"), ("Munich", "DE"), ("Vienna", "AT"), ("Paris", "FR"), ("Lyon", "FR"),
    ("Montréal", "CA"), ("Sydney", "AU"),
)  # fmt: skip
LANGUAGES = ("en", "es", "de", "fr")
PLANS = ("free", "pro", "business")
PRODUCTS = (
    ("sku-1001", "Trail Runner Shoes", "shoes", 119.0), ("sku-1002", "Rain Jacket", "outerwear", 189.5),
    ("sku-1003", "Merino Socks", "accessories", 18.0), ("sku-1004", "Day Pack 22L", "bags", 79.99),
    ("sku-1005", "Water Bottle", "accessories", 24.0), ("sku-1006", "Fleece Hoodie", "tops", 64.0),
    ("sku-1007", "Headlamp", "gear", 39.95), ("sku-1008", "Camp Stove", "gear", 54.0),
)  # fmt: skip
PAGES = (("Home", "/"), ("Pricing", "/pricing"), ("Product", None), ("Cart", "/cart"),
         ("Blog", "/blog/packing-list"))  # fmt: skip
TRACK_EVENTS = ("Product Viewed", "Checkout Started", "Order Completed")
USER_AGENTS = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/123.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/123.0.0.0 Mobile Safari/537.36",
)
SITE = "https://shop.example.com"
AJS_LIBRARY = {"name": "analytics.js", "version": "npm:next-1.70.0"}
ENGAGE_LIBRARY = {"name": "unknown", "version": "unknown"}
ENGAGE_INTEGRATIONS = {"All": False, "Amazon S3": True, "OneSignal (Actions)": True}
TRAIT_COLUMNS = ("first_name", "last_name", "email", "city", "country", "language", "plan", "ltv",
                 "last_product")  # fmt: skip
ROSTER_TAGS = ("first_name", "language", "plan", "ltv")
