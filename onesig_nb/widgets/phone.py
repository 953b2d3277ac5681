"""HTML/CSS mock-ups of a push on an iOS lock screen, an Android shade and Chrome on a desktop.

Pure functions returning HTML strings (no ipywidgets), so the preview widget, static
``_repr_html_`` output and tests all share them. Every piece of user text is escaped, and text
elements carry ``dir="auto"`` so right-to-left scripts and emoji display as the device would.
Truncation follows :data:`onesig_nb.message.devices.DEVICE_LIMITS` (approximate, sourced figures).

What each mock-up shows follows the create-message fields' platforms (v11.6
``/notifications?c=push``): iOS the subtitle ("iOS only"), the ``ios_attachments`` image and
the app icon's badge (``ios_badgeType``/``ios_badgeCount``); Android the ``big_picture`` image
and the ``large_icon``, collapsed (one line of text, the picture as a thumbnail) and expanded
(the long text, the big picture and the buttons, as Android shows the newest notification);
Chrome the ``chrome_web_image`` and only ``web_buttons`` (``buttons`` are for "Android and
iOS"). Every card carries the app's name and icon (``app_icon``; a neutral lettered tile when
none is given). Images load only from http(s) URLs; anything else (a resource name in the app,
a ``javascript:`` URL) is named, never loaded. Emoji use the colour emoji fonts each system
has (Noto Color Emoji on Linux, which ``.ci/run`` installs for screenshots).
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from onesig_nb.message.devices import DEVICE_LIMITS

__all__ = [
    "android_html",
    "app_icon_html",
    "badge_text",
    "chrome_html",
    "devices_html",
    "ios_html",
    "truncate",
]

_STYLE = """<style>
.osn-devices{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start;font-family:-apple-system,
 'Segoe UI',Roboto,Helvetica,Arial,sans-serif,'Apple Color Emoji','Segoe UI Emoji',
 'Noto Color Emoji'}
.osn-device{width:300px}.osn-device-label{font-size:11px;color:#666;margin:0 0 4px 2px;
 text-transform:uppercase;letter-spacing:.04em}
.osn-ios{background:linear-gradient(160deg,#4b6cb7,#182848);padding:14px;border-radius:22px}
.osn-ios .osn-card{background:rgba(245,245,245,.92);border-radius:14px;padding:10px 12px}
.osn-android{background:#202124;padding:12px;border-radius:18px}
.osn-android .osn-card{background:#fff;border-radius:12px;padding:10px 12px}
.osn-chrome{background:#e8eaed;padding:12px;border-radius:6px}
.osn-chrome .osn-card{background:#fff;border:1px solid #dadce0;border-radius:4px;padding:10px 12px;
 box-shadow:0 1px 3px rgba(0,0,0,.2)}
.osn-head{display:flex;justify-content:space-between;font-size:11px;color:#555;margin-bottom:4px}
.osn-title{font-weight:600;font-size:14px;color:#111;overflow-wrap:anywhere}
.osn-sub{font-size:13px;color:#111;overflow-wrap:anywhere}
.osn-body{font-size:13px;color:#222;white-space:pre-wrap;overflow-wrap:anywhere}
.osn-img{width:100%;max-height:150px;object-fit:cover;border-radius:8px;margin-top:6px}
.osn-img-missing{font-size:11px;color:#888;margin-top:6px}
.osn-buttons{display:flex;gap:6px;margin-top:8px;flex-wrap:wrap}
.osn-button{font-size:12px;padding:4px 8px;border-radius:6px;background:#eee;color:#1a73e8}
.osn-cut{color:#b00;font-size:10px;margin-left:4px}
.osn-row{display:flex;gap:8px;align-items:flex-start}.osn-row>div:first-child{flex:1;min-width:0}
.osn-icon{width:40px;height:40px;border-radius:50%;object-fit:cover;flex:none}
.osn-icon-name{font-size:10px;color:#888;flex:none;max-width:60px;overflow-wrap:anywhere}
.osn-app{display:inline-flex;align-items:center;gap:5px;min-width:0}
.osn-app-icon{width:16px;height:16px;border-radius:4px;object-fit:cover;flex:none}
.osn-app-tile{width:16px;height:16px;border-radius:4px;flex:none;background:#8a8f98;color:#fff;
 font-size:10px;font-weight:700;line-height:16px;text-align:center}
.osn-chrome .osn-row .osn-app-icon,.osn-chrome .osn-row .osn-app-tile{width:36px;height:36px;
 border-radius:6px;line-height:36px;font-size:18px}
.osn-view{font-size:10px;color:#9aa0a6;margin:8px 0 4px 2px}.osn-view:first-child{margin-top:0}
.osn-android .osn-card+.osn-view{margin-top:10px}
.osn-thumb{width:40px;height:40px;border-radius:6px;object-fit:cover;flex:none}
.osn-badge{display:inline-block;min-width:16px;padding:0 5px;border-radius:9px;background:#ff3b30;
 color:#fff;font-size:10px;font-weight:600;text-align:center;margin-left:6px}
</style>"""


def truncate(text: str | None, limit: int) -> tuple[str, bool]:
    """Cut ``text`` to ``limit`` characters plus an ellipsis, as a device would; (text, cut?)."""
    text = text or ""
    if len(text) <= limit:
        return text, False
    cut = text[:limit].rstrip()
    if cut and "\ud800" <= cut[-1] <= "\udbff":  # never leave half a surrogate pair
        cut = cut[:-1]
    return cut + "…", True


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _image(url: str | None) -> str:
    if not url:
        return ""
    if url.startswith(("https://", "http://")):
        return f'<img class="osn-img" src="{_e(url)}" alt="" loading="lazy">'
    return f'<div class="osn-img-missing" dir="auto">image: {_e(url)}</div>'


def _is_web(url: str | None) -> bool:
    return bool(url) and url.startswith(("https://", "http://"))


def _large_icon(icon: str | None) -> str:
    if not icon:
        return ""
    if _is_web(icon):
        return f'<img class="osn-icon" src="{_e(icon)}" alt="" loading="lazy">'
    return f'<div class="osn-icon-name" dir="auto">icon: {_e(icon)}</div>'


def app_icon_html(app_name: str, app_icon: str | None = None, *, big: bool = False) -> str:
    """The app's icon as a card header shows it: the ``app_icon`` image (http(s) only), else a
    neutral grey tile with the app name's first letter (what a reader sees as "some app")."""
    if _is_web(app_icon):
        return f'<img class="osn-app-icon" src="{_e(app_icon or "")}" alt="" loading="lazy">'
    letter = next((c for c in app_name if c.isalnum()), "•").upper()
    title = f' title="app icon: {_e(app_icon)}"' if app_icon else ""
    return f'<span class="osn-app-tile"{title} aria-hidden="true">{_e(letter)}</span>'


def _app(app_name: str, app_icon: str | None, text: str) -> str:
    """App icon and name (or ``text``) as the left part of a card's header."""
    return f'<span class="osn-app">{app_icon_html(app_name, app_icon)}{text}</span>'


def badge_text(badge_type: str | None, count: int | None) -> str | None:
    """What the app icon's badge says after this push: ``"3"`` for SetTo 3, ``"+1"`` for
    Increase 1 (the device adds it to what it shows), None when the badge is left alone."""
    if count is None or badge_type not in ("SetTo", "Increase"):
        return None
    if badge_type == "SetTo":
        return str(count) if count > 0 else None  # 0 clears the badge
    return f"{count:+d}"


def _buttons(buttons: Sequence[dict] | None, *, reverse: bool = False) -> str:
    if not buttons:
        return ""
    items = list(buttons)[::-1] if reverse else list(buttons)
    inner = "".join(
        f'<span class="osn-button" dir="auto">{_e(str(b.get("text", "")))}</span>' for b in items
    )
    return f'<div class="osn-buttons">{inner}</div>'


def _text(cls: str, text: str | None, limit: int | None) -> str:
    if not text:
        return ""
    shown, cut = truncate(text, limit) if limit else (text, False)
    mark = '<span class="osn-cut" title="truncated on this device">cut</span>' if cut else ""
    return f'<div class="osn-{cls}" dir="auto">{_e(shown)}{mark}</div>'


def _card(kind: str, label: str, head: str, inner: str) -> str:
    return _device(kind, label, _one_card(head, inner))


def _one_card(head: str, inner: str, *, view: str | None = None) -> str:
    data = f' data-view="{view}"' if view else ""
    return f'<div class="osn-card"{data}><div class="osn-head">{head}</div>{inner}</div>'


def _device(kind: str, label: str, cards: str) -> str:
    return (
        f'<div class="osn-device" data-device="{kind}"><div class="osn-device-label">{label}</div>'
        f'<div class="osn-{kind}">{cards}</div></div>'
    )


def ios_html(
    *,
    app_name: str,
    title: str | None,
    body: str | None,
    subtitle: str | None = None,
    image: str | None = None,
    buttons: Sequence[dict] | None = None,
    badge: str | None = None,
    app_icon: str | None = None,
) -> str:
    """An iOS lock-screen notification (buttons appear on long-press; shown below the card);
    ``badge`` is the app icon's badge text (:func:`badge_text`), shown next to the app name."""
    lim = DEVICE_LIMITS["ios"]
    body_lim = lim["body_with_image"] if image else lim["body"]
    inner = (
        _text("title", title, lim["title"])
        + _text("sub", subtitle, lim["title"])
        + _text("body", body, body_lim)
        + _image(image)
        + _buttons(buttons, reverse=True)  # OneSignal: iOS shows buttons in reverse array order
    )
    mark = f'<span class="osn-badge" title="app icon badge">{_e(badge)}</span>' if badge else ""
    name = f'<span dir="auto">{_e(app_name.upper())}</span>{mark}'
    head = f"{_app(app_name, app_icon, name)}<span>now</span>"
    return _card("ios", "iOS lock screen", head, inner)


def android_html(
    *,
    app_name: str,
    title: str | None,
    body: str | None,
    image: str | None = None,
    buttons: Sequence[dict] | None = None,
    large_icon: str | None = None,
    app_icon: str | None = None,
) -> str:
    """An Android notification in the shade, twice: collapsed (one line of body text, the
    large icon, or else the big picture as a thumbnail, on the right) and expanded (the body up
    to the expanded limit, the big picture and the buttons)."""
    lim = DEVICE_LIMITS["android"]

    def head(arrow: str) -> str:
        name = f'<span dir="auto">{_e(app_name)} · now</span>'
        return f"{_app(app_name, app_icon, name)}<span>{arrow}</span>"

    def with_side(texts: str, side: str) -> str:
        return f'<div class="osn-row"><div>{texts}</div>{side}</div>' if side else texts

    title_html = _text("title", title, lim["title"])
    side = _large_icon(large_icon)
    if not side and _is_web(image):
        side = f'<img class="osn-thumb" src="{_e(image or "")}" alt="" loading="lazy">'
    collapsed = with_side(title_html + _text("body", body, lim["body"]), side)
    expanded = (
        with_side(title_html + _text("body", body, lim["body_expanded"]), _large_icon(large_icon))
        + _image(image)
        + _buttons(buttons)
    )
    cards = (
        '<div class="osn-view">collapsed</div>'
        + _one_card(head("▾"), collapsed, view="collapsed")
        + '<div class="osn-view">expanded</div>'
        + _one_card(head("▴"), expanded, view="expanded")
    )
    return _device("android", "Android", cards)


def chrome_html(
    *,
    app_name: str,
    title: str | None,
    body: str | None,
    image: str | None = None,
    buttons: Sequence[dict] | None = None,
    site: str | None = None,
    app_icon: str | None = None,
) -> str:
    """A Chrome notification on a desktop (Windows/macOS style), with the site underneath;
    ``buttons`` are the web buttons (``web_buttons``); the app icon sits left of the text."""
    lim = DEVICE_LIMITS["chrome"]
    texts = _text("title", title or app_name, lim["title"]) + _text("body", body, lim["body"])
    inner = (
        f'<div class="osn-row"><div>{texts}</div>{app_icon_html(app_name, app_icon)}</div>'
        + _image(image)
        + _buttons(list(buttons or [])[:2])  # Chrome shows at most 2 web buttons
    )
    head = f'<span dir="auto">Google Chrome · {_e(site or app_name)}</span><span>✕</span>'
    return _card("chrome", "Chrome on desktop", head, inner)


def devices_html(
    *,
    app_name: str,
    title: str | None,
    body: str | None,
    subtitle: str | None = None,
    ios_image: str | None = None,
    android_image: str | None = None,
    chrome_image: str | None = None,
    buttons: Sequence[dict] | None = None,
    site: str | None = None,
    web_buttons: Sequence[dict] | None = None,
    large_icon: str | None = None,
    badge: str | None = None,
    app_icon: str | None = None,
) -> str:
    """The three mock-ups side by side, with their stylesheet.

    ``buttons`` show on iOS and Android, ``web_buttons`` on Chrome; ``large_icon`` on Android;
    ``badge`` (:func:`badge_text`) on iOS; ``app_icon`` (an http(s) URL) on all three."""
    return (
        _STYLE
        + '<div class="osn-devices">'
        + ios_html(
            app_name=app_name,
            title=title,
            subtitle=subtitle,
            body=body,
            image=ios_image,
            buttons=buttons,
            badge=badge,
            app_icon=app_icon,
        )
        + android_html(
            app_name=app_name,
            title=title,
            body=body,
            image=android_image,
            buttons=buttons,
            large_icon=large_icon,
            app_icon=app_icon,
        )
        + chrome_html(
            app_name=app_name,
            title=title,
            body=body,
            image=chrome_image,
            buttons=web_buttons,
            site=site,
            app_icon=app_icon,
        )
        + "</div>"
    )
