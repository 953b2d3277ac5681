"""Device limits: how many characters each phone or browser shows before it truncates.

Lint (:mod:`onesig_nb.message.rules`) warns when a rendered text is longer, and the phone
mock-ups (:mod:`onesig_nb.widgets.phone`) cut the text where the device would.
"""

from __future__ import annotations

__all__ = ["DEVICE_LIMITS"]

#: How many characters each device shows before it truncates (collapsed view). None of the three
#: vendors publishes exact figures (they depend on screen width, font and language), so these are
#: approximations from published guidance:
#: - iOS body: Braze "Push message and image formats" (braze.com/docs/user_guide/message_building_
#:   by_channel/push/best_practices/message_format): lock screen ~160 characters text-only, ~130
#:   with an image. iOS title: approximation, ~40 characters, from Alibaba Cloud mPaaS "Message
#:   content restrictions" (APNs title 40 characters, then an ellipsis).
#: - Android: same Braze page, lock screen ~49 characters (collapsed body, one line); notification
#:   drawer (expanded) ~597. Title ~40 is an approximation (vendor push title limits of 40 for
#:   Huawei/vivo in the same Alibaba Cloud page).
#: - Chrome on desktop (Windows/macOS): approximation, title ~60 / body ~120, from Braze's web
#:   push table on the same page; macOS banners show less.
DEVICE_LIMITS: dict[str, dict[str, int]] = {
    "ios": {"title": 40, "body": 160, "body_with_image": 130},
    "android": {"title": 40, "body": 49, "body_expanded": 597},
    "chrome": {"title": 60, "body": 120},
}
