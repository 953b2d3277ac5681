# %% [markdown]
# # A scheduled campaign: welcome new audience members every day
#
# This notebook is meant to run **without you**, every morning, from a scheduler:
#
# ```
# papermill 07-scheduled-campaign.ipynb out.ipynb -p audience new_signups -p require_key True
# onesig-nb send ...      # the same without a notebook; refuses without a key (--sandbox to rehearse)
# ```
#
# On a schedule, pass `require_key True`: a machine that lost its `.env` then fails loudly instead
# of quietly rehearsing against a throwaway sandbox.
#
# Each run sends the welcome push only to people who **joined the audience since the last
# run**. The journal remembers who already got it.
#
# Below the daily run, a rehearsal schedules a push for **tomorrow at 09:00 in each person's own
# time zone**, watches it go out city by city, and cancels another one before its time.

# %% tags=["parameters"]
# Parameters (papermill replaces this cell's values)
audience = "new_signups"
campaign_name = "daily-welcome"
workspace = None  # None: the sample workspace (or $ONESIG_NB_WORKSPACE)
require_key = False  # True on a schedule: no ONESIGNAL_REST_API_KEY means stop, not rehearse

# %%
from IPython.display import display

import onesig_nb as osn
from onesig_nb.samples import ensure_workspace

ws = ensure_workspace(workspace)
client = osn.connect(workspace=ws)
if require_key and client.is_sandbox:
    raise SystemExit("No ONESIGNAL_REST_API_KEY: this scheduled run stops instead of rehearsing.")
journal = ws / "journals" / f"{client.app_id}.sqlite"

# %%
cohort = osn.load_cohort(ws / "segment-logs", audience=audience)
msg = osn.Message(headings="Welcome!", contents="Hi {{ first_name | default: 'there' }}, glad you are here.")
campaign = osn.Campaign(campaign_name, cohort, msg, client, journal=journal)
result = campaign.send(confirm=True, extend=True, progress=False)
s = result.summary
print(f"{s['sent']} new members welcomed; {s['unsubscribed']} unsubscribed; {s['failed']} failed")

# %% [markdown]
# ## Tomorrow at 09:00, in each person's own time zone
#
# A welcome at 09:00 *local* time reaches Lisbon, New York and Tokyo at three different moments.
# OneSignal does the arithmetic: with `delayed_option="timezone"` and
# `delivery_time_of_day="9:00AM"`, each phone gets the push at the first 09:00 in its own time
# zone after `send_after`.
#
# The rest of this notebook **rehearses** that against the sandbox, whose clock you can move
# forward. It is skipped on a live app (the daily run above is all a live run does): there, time
# passes by itself and you read `campaign.report()` the next day.

# %%
rehearse = client.is_sandbox  # the rehearsal below runs only against the sandbox
sandbox = client.sandbox      # None on a live app


def delivered_to(result):
    """Rehearsal only: the phones the sandbox delivered a campaign's push to."""
    got = sandbox.deliveries()
    return got[got.notification_id.isin(result.notification_ids)]


# %% [markdown]
# **Rehearsal only: three stand-in people.** On a live app every phone tells OneSignal its own
# time zone. The sample sandbox's phones all sit in UTC, so we add three people whose phones are
# in Lisbon, New York and Tokyo.

# %%
import pandas as pd

stand_ins = pd.DataFrame(
    [("tz-ana", "Ana", "Europe/Lisbon"), ("tz-ben", "Ben", "America/New_York"),
     ("tz-kei", "Kei", "Asia/Tokyo")],
    columns=["external_id", "first_name", "timezone"],
)
if rehearse and not set(stand_ins.external_id) & set(sandbox.users().external_id):
    sandbox.add_users([{"external_id": p.external_id, "platform": "ios", "timezone": p.timezone}
                       for p in stand_ins.itertuples()])
around_the_world = osn.Cohort.from_frame(stand_ins[["external_id", "first_name"]])

# %% [markdown]
# **When is "tomorrow"?** OneSignal sends at each person's *first* 09:00 after `send_after`. So
# `send_after` is the moment tomorrow begins in the earliest of their time zones (Tokyo here):
# by then today's 09:00 has passed everywhere, and tomorrow's has not come anywhere yet.

# %%
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo


def tomorrow_begins(now, zones):
    """When tomorrow begins in the earliest of ``zones`` (at least a minute from ``now``)."""
    soon = now + timedelta(minutes=1)
    day = soon.date() + timedelta(days=1)
    return max(soon, min(datetime.combine(day, time(0), ZoneInfo(z)) for z in zones)), day


now = sandbox.now() if rehearse else datetime.now(UTC)  # the sandbox has a clock of its own
send_after, tomorrow = tomorrow_begins(now, stand_ins.timezone)
morning = osn.Message(
    headings="Good morning!",
    contents="Hi {{ first_name | default: 'there' }}, here is your first tip for today.",
    send_after=send_after, delayed_option="timezone", delivery_time_of_day="9:00AM",
)
# one campaign per day: the journal then tells each day's push apart
at_nine = osn.Campaign(f"welcome-at-9-local-{tomorrow}", around_the_world, morning, client,
                       journal=journal)
at_nine.plan()  # see "Goes out (scheduled)"

# %% [markdown]
# Send it. OneSignal **accepts** it now and **delivers** it tomorrow: the result says
# "Scheduled", and the report counts the phones still pending.

# %%
if rehearse:
    scheduled = at_nine.send(confirm=True, progress=False)
    display(scheduled)
    display(at_nine.report())

# %% jupyter={"source_hidden": true} tags=["check"]
# Check: accepted for all three, nothing delivered yet, OneSignal's view says 3 pending.
if rehearse:
    assert scheduled.summary["sent"] == 3 and scheduled.headline()[1].startswith("✓ Scheduled")
    pending = at_nine.report()
    assert (pending.state, pending.pending) == ("scheduled", 3)
    views = [client.view_notification(n) for n in scheduled.notification_ids]  # one per text
    assert sum(v.remaining for v in views) == 3 and sum(v.successful for v in views) == 0
    assert {v.send_after for v in views} == {int(send_after.timestamp())}
    assert delivered_to(scheduled).empty

# %% [markdown]
# **Rehearsal only: move the clock.** On a live app, time passes by itself. Here we move the
# sandbox's clock to 09:00 in each city in turn, and look at who has the push.

# %% tags=["keep-output"]
if rehearse:
    rows = []
    zones = stand_ins.set_index("external_id").timezone
    for zone in sorted(set(zones), key=lambda z: datetime.combine(tomorrow, time(9), ZoneInfo(z))):
        nine = datetime.combine(tomorrow, time(9), ZoneInfo(zone))
        sandbox.advance(seconds=(nine - sandbox.now()).total_seconds() + 1)  # rehearsal only
        got = delivered_to(scheduled)
        new = got[got.external_id.map(zones) == zone]
        rows.append({"time zone": zone,
                     "delivered at (local time)": sandbox.now().astimezone(ZoneInfo(zone)).strftime("%H:%M"),
                     "people": ", ".join(stand_ins.set_index("external_id").first_name[new.external_id]),
                     "delivered so far": len(got)})
    display(pd.DataFrame(rows).set_index("time zone"))

# %% [markdown]
# Tomorrow, the report shows it delivered:

# %%
if rehearse:
    display(at_nine.report())

# %% jupyter={"source_hidden": true} tags=["check"]
# Check: each person got it once, at 09:00 tomorrow on their own clock; the report says delivered.
if rehearse:
    assert [r["delivered at (local time)"] for r in rows] == ["09:00"] * 3
    assert [r["delivered so far"] for r in rows] == [1, 2, 3]
    assert sorted(r["people"] for r in rows) == ["Ana", "Ben", "Kei"]
    assert delivered_to(scheduled).external_id.is_unique
    assert at_nine.report().state == "delivered"

# %% [markdown]
# ## Changed your mind? Cancel before its time
#
# OneSignal cancels a push only while it is still scheduled (or still going out). Here we schedule
# a reminder for the next morning, cancel it, and move the clock past it: nobody gets it.
# Cancelling one already delivered fails with `NotCancellable`.

# %%
if rehearse:
    reminder_at, reminder_day = tomorrow_begins(sandbox.now(), stand_ins.timezone)
    reminder = osn.Campaign(
        f"reminder-at-9-local-{reminder_day}", around_the_world,
        osn.Message(headings="A quick reminder", contents="Your first tip is waiting.",
                    send_after=reminder_at, delayed_option="timezone", delivery_time_of_day="9:00AM"),
        client, journal=journal,
    )
    reminder_sent = reminder.send(confirm=True, progress=False)
    for notification_id in reminder_sent.notification_ids:
        client.cancel_notification(notification_id)
    sandbox.advance(days=2)  # rehearsal only: well past everyone's 09:00
    display(reminder.report())
    print(f"The canceled reminder reached {len(delivered_to(reminder_sent))} people.")

# %% jupyter={"source_hidden": true} tags=["check"]
# Check: the reminder was accepted, then canceled, and delivered to nobody; the morning push,
# already delivered, can no longer be canceled.
if rehearse:
    assert reminder_sent.summary["sent"] == 3
    assert reminder.report().state == "canceled" and delivered_to(reminder_sent).empty
    try:
        client.cancel_notification(scheduled.notification_ids[0])
    except osn.errors.NotCancellable:
        pass
    else:
        raise AssertionError("a delivered push was canceled")
