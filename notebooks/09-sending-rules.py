# %% [markdown]
# # Sending rules: never too often, never at night
#
# Three rules keep pushes welcome, whatever campaign sends them:
#
# - **A frequency cap**: nobody gets more than one push a day, *across every campaign* of the
#   app. The journal is the ledger: it knows who got what, and when.
# - **Quiet hours**: nobody gets a push between 21:00 and 08:00 *on their own clock*. People
#   in quiet hours are not dropped: they get it at 08:00 their time.
# - **Suppression**: some people never get a marketing push (here: business customers).
#
# The story: campaign A welcomes new sign-ups; a second campaign B to the same people the same
# day is held back by the cap; a reminder for tomorrow at 09:00 in each person's own time zone is
# scheduled, then cancelled. Last, the rules become the default of every campaign in the
# notebook, and of `onesig-nb send`.

# %%
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pandas as pd
from IPython.display import display

import onesig_nb as osn
from onesig_nb.campaign.views import exclusion_kind
from onesig_nb.samples import ensure_workspace

ws = ensure_workspace()             # the sample Segment workspace (made the first time, reused after)
client = osn.connect(workspace=ws)  # no API key set -> the local OneSignal sandbox
journal = ws / "journals" / f"{client.app_id}.sqlite"  # one journal per app: the cap's ledger
rehearse = client.is_sandbox  # moving the clock (below) is for the sandbox only
sandbox = client.sandbox      # None on a live app
"rehearsal against the local sandbox" if rehearse else "live OneSignal app"

# %% [markdown]
# ## Who, and in which time zone
#
# Quiet hours and "09:00 local" need each person's time zone. Segment records it with every
# event from a phone (`context.timezone`, an IANA name such as `Europe/Paris`); the rules read it
# from a cohort trait, `timezone` by default. **The sample cohort has no `timezone` trait**, so
# we add one from each person's `city` (the sample has fifteen cities). Anyone without a time
# zone, or with one that is not a real zone name, falls back to `default_timezone` (UTC), and
# the plan says how many people that is.

# %% tags=["keep-output"]
CITY_ZONES = {
    "Austin": "America/Chicago", "Berlin": "Europe/Berlin",
    "Buenos Aires": "America/Argentina/Buenos_Aires", "London": "Europe/London",
    "Lyon": "Europe/Paris", "Madrid": "Europe/Madrid", "Mexico City": "America/Mexico_City",
    "Montréal": "America/Toronto", "Munich": "Europe/Berlin", "New York": "America/New_York",
    "Paris": "Europe/Paris", "San Francisco": "America/Los_Angeles",
    "Sydney": "Australia/Sydney", "Toronto": "America/Toronto", "Vienna": "Europe/Vienna",
}


def with_time_zones(cohort):
    """The cohort with a `timezone` trait, from each person's city."""
    df = cohort.df.assign(timezone=cohort.df.city.map(CITY_ZONES))
    return osn.Cohort(df, audience=cohort.audience, report=cohort.report)


signups = with_time_zones(osn.load_cohort(ws / "segment-logs", audience="new_signups"))
signups.df.groupby(["timezone", "city"]).size().rename("people")

# %% [markdown]
# ## The rules
#
# One `osn.Rules` holds them all. `suppress=` takes a list of external ids, a cohort, a CSV file,
# or, as here, a rule over the cohort's traits.

# %% tags=["keep-output"]
rules = osn.Rules(
    max_per_person=(1, "24h"),         # at most one push per person in any 24 hours
    quiet_hours=("21:00", "08:00"),    # never at night, on each person's own clock
    timezone_trait="timezone",         # where their time zone is (the default)
    default_timezone="UTC",            # for anyone without one (the default)
    suppress="plan == 'business'",     # business customers hear from their account manager
)
rules.lines()

# %% [markdown]
# **Rehearsal only: set the clock.** Whether someone is in their quiet hours depends on the time
# of day. So that this notebook tells the same story whenever it runs, we move the sandbox's
# clock forward to **11:30 UTC**, a day or two ahead (also clear of the 24-hour cap window of
# any earlier rehearsal): lunchtime in Europe and Buenos Aires, still night in North America,
# late evening in Sydney. The campaigns below read the time from this clock (`now=clock`); on a
# live app, time is simply now.

# %%
if rehearse:
    start = sandbox.now() + timedelta(days=1)
    target = datetime.combine(start.date(), time(11, 30), UTC)
    if target < start:
        target += timedelta(days=1)
    sandbox.advance(seconds=(target - sandbox.now()).total_seconds())  # rehearsal only
clock = sandbox.now if rehearse else None  # None: the campaigns use the real clock
now = clock() if rehearse else datetime.now(UTC)
today, tomorrow = now.date(), now.date() + timedelta(days=1)
zones = sorted(set(CITY_ZONES.values()))
clocks = [now.astimezone(ZoneInfo(z)) for z in zones]
pd.DataFrame({"time_zone": zones, "local time": [t.strftime("%a %H:%M") for t in clocks],
              "in quiet hours": [not time(8) <= t.time() < time(21) for t in clocks]}).set_index("time_zone")

# %% [markdown]
# ## Campaign A: plan it, and see who goes when
#
# The plan lists the rules, who they leave out and why ("Not sent now"), and **when** each
# person gets the push: now, or at the end of their quiet hours.

# %%
welcome = osn.Message(
    headings="Welcome!",
    contents="Hi {{ first_name | default: 'there' }}, here is your first tip: save a search to hear about new arrivals.",
)
campaign_a = osn.Campaign(f"first-tip-{today}", signups, welcome, client, journal=journal,
                          rules=rules, now=clock)
plan_a = campaign_a.plan()
plan_a

# %% [markdown]
# Why people are not sent now, counted (`plan.reasons()`): people OneSignal cannot reach (not in
# the app, or no subscribed device) get no request, the suppression rule leaves out the business
# customers, and the people in quiet hours are **deferred**, not dropped.

# %% tags=["keep-output"]
plan_a.reasons()

# %% [markdown]
# `plan.timing` has one row per moment the push goes out: its UTC time, the local time, the time
# zone, why (now, quiet hours, scheduled) and how many people. `plan.timing_notes` says who fell
# back to the default time zone (nobody here: every city has one).

# %%
display(plan_a.timing)
plan_a.timing_notes or "everyone has a time zone"


# %% [markdown]
# The same per time zone, on each person's own clock:

# %% tags=["keep-output"]
def who_goes_when(plan):
    """plan.timing per time zone, on each person's own clock: when they get it, how many."""
    t = plan.timing
    local = t.local_time.str[-5:] + " local"
    gets_it = t.why.map({"now": "now", "quiet hours": "when quiet hours end"}).fillna("as scheduled")
    gets_it = gets_it.where(t.why == "now", local + ", " + gets_it)
    table = t.assign(gets_it=gets_it).groupby(["why", "time_zone", "gets_it"]).people.sum()
    return table.droplevel("why").rename("people")


who_goes_when(plan_a)

# %% [markdown]
# ## Send campaign A
#
# At 11:30 UTC (the rehearsal's clock), people in Europe and Buenos Aires get it now. For the
# others, OneSignal accepts it now with a `send_after` at 08:00 their time: their status is
# `deferred`, and the reason says until when.

# %%
result_a = campaign_a.send(progress=False)
result_a

# %% [markdown]
# `result.to_frame()` has one row per person: `excluded` (no request: the `error` column says
# why), `deferred` (scheduled for the end of their quiet hours) and `sent`. One row of each kind:

# %%
frame_a = result_a.to_frame()
kind = frame_a.error.fillna("").map(exclusion_kind).where(frame_a.status != "sent", "")
display(frame_a.assign(kind=kind).drop_duplicates(["status", "kind"])
        .drop(columns="kind").set_index("external_id"))

# %% [markdown]
# And counted, per status and reason:

# %% tags=["keep-output"]
frame_a.assign(why=kind).groupby(["status", "why"]).size().rename("people")

# %% jupyter={"source_hidden": true} tags=["check"]
# Check: at 11:30 UTC, the people in North America and Sydney are deferred, nobody else is;
# business customers are suppressed; the sandbox delivered it now to exactly the people "sent".
zone_of = signups.df.set_index("external_id").timezone
asleep = {"America/New_York", "America/Toronto", "America/Chicago", "America/Mexico_City",
          "America/Los_Angeles", "Australia/Sydney"}
sent_a = frame_a[frame_a.status == "sent"]
deferred_a = frame_a[frame_a.status == "deferred"]
reached_by_a = set(sent_a.external_id) | set(deferred_a.external_id)
if rehearse:
    assert len(deferred_a) and set(deferred_a.external_id.map(zone_of)) <= asleep
    assert not set(sent_a.external_id.map(zone_of)) & asleep
    assert deferred_a.error.str.startswith("deferred by quiet hours to 08:00 local").all()
    got = sandbox.deliveries()
    got = got[got.notification_id.isin(result_a.notification_ids)]
    assert set(got.external_id) == set(sent_a.external_id)
suppressed = frame_a[frame_a.error.fillna("").str.startswith("suppressed")]
assert len(suppressed) and (signups.df.set_index("external_id").plan[suppressed.external_id] == "business").all()
assert result_a.summary["accepted"] == len(reached_by_a) == plan_a.to_send

# %% [markdown]
# ## Campaign B, the same day: capped
#
# A colleague wants to send a second push to the same audience right away. The cap counts
# every campaign of the app in the journal, so everyone campaign A reached is left out, with the
# time from which they can get a push again (24 hours after A reaches them).

# %%
tip = osn.Message(headings="One more tip", contents="Turn on price alerts to hear when a favourite drops in price.")
campaign_b = osn.Campaign(f"second-tip-{today}", signups, tip, client, journal=journal,
                          rules=rules, now=clock)
plan_b = campaign_b.plan()
plan_b

# %% [markdown]
# `plan.excluded` lists each person left out, and why:

# %%
excluded_b = plan_b.excluded
excluded_b[excluded_b.reason.str.startswith("capped")].drop_duplicates("reason")

# %% tags=["keep-output"]
plan_b.reasons()

# %% [markdown]
# Sending B anyway sends nothing, and its result says why for every person:

# %%
result_b = campaign_b.send(progress=False)
display(result_b)
result_b.to_frame().query("status == 'excluded'").drop_duplicates("error").head(4)

# %% jupyter={"source_hidden": true} tags=["check"]
# Check: B leaves out exactly the people A reached, each until 24 hours after A reached them,
# and sends nothing.
capped_b = excluded_b[excluded_b.reason.str.startswith("capped until")]
assert set(capped_b.external_id) == reached_by_a
assert plan_b.reasons()["capped"] == len(reached_by_a) == result_a.summary["accepted"]
assert plan_b.to_send == 0 and result_b.requests == 0 and result_b.summary["accepted"] == 0
if rehearse:
    until = pd.to_datetime(capped_b.reason.str.extract(r"until (.+) UTC")[0], utc=True)
    at_once = capped_b.external_id.isin(sent_a.external_id)
    sent_at = pd.to_datetime(got.groupby("external_id").delivered_at.min(), unit="s", utc=True)
    gap = until[at_once].values - capped_b.external_id[at_once].map(sent_at).values
    assert (abs(pd.to_timedelta(gap) - pd.Timedelta(hours=24)) <= pd.Timedelta(minutes=2)).all()
    assert (until > now + pd.Timedelta(hours=23)).all()
    assert not sandbox.deliveries().notification_id.isin(result_b.notification_ids).any()

# %% [markdown]
# ## Tomorrow at 09:00, in each person's own time zone
#
# `schedule="YYYY-MM-DD 09:00 local"` sends at 09:00 on that day on each person's clock: one
# request per moment, each with its `send_after`. Here a reminder for the cart abandoners.
# The cap still counts campaign A. In this rehearsal, A reached Europe at lunchtime today, less
# than 24 hours before 09:00 tomorrow, so the cart abandoners A reached there are left out (and
# in Sydney, where A arrives at 08:00 that same morning). In the Americas A arrived at 08:00
# this morning, local time: 25 hours before tomorrow's 09:00, so they get the reminder.

# %%
cart = with_time_zones(osn.load_cohort(ws / "segment-logs", audience="cart_abandoners"))
reminder = osn.Message(headings="Still thinking it over?", contents="Your cart is saved: pick up where you left off.")
campaign_c = osn.Campaign(f"cart-reminder-{tomorrow}", cart, reminder, client, journal=journal,
                          rules=rules, now=clock, schedule=f"{tomorrow} 09:00 local")
plan_c = campaign_c.plan()
display(plan_c)
plan_c.timing

# %% tags=["keep-output"]
display(plan_c.reasons())
who_goes_when(plan_c)

# %% jupyter={"source_hidden": true} tags=["check"]
# Check: everyone goes at 09:00 tomorrow on their own clock; the capped are people A reached.
excluded_c = plan_c.excluded
capped_c = set(excluded_c[excluded_c.reason.str.startswith("capped")].external_id)
assert capped_c <= reached_by_a
if rehearse:  # (on a live app, late in the UTC day, 09:00 may have passed in Sydney already)
    assert plan_c.timing.local_time.eq(f"{tomorrow} 09:00").all()
    assert set(plan_c.timing.why) == {"scheduled"} and capped_c

# %% [markdown]
# Send it: OneSignal accepts it now and delivers it tomorrow.

# %%
result_c = campaign_c.send(progress=False)
result_c

# %% jupyter={"source_hidden": true} tags=["check"]
# Check: accepted for everyone the plan said, nothing delivered yet.
assert result_c.summary["sent"] == plan_c.to_send
if rehearse:
    assert not sandbox.deliveries().notification_id.isin(result_c.notification_ids).any()

# %% [markdown]
# ## Changed your mind? Cancel it
#
# `campaign.cancel()` is the kill switch: every push of the campaign not delivered yet is
# cancelled (OneSignal cancels a scheduled push until its time), and the journal records it.
# Without a notebook: `onesig-nb cancel --name cart-reminder-YYYY-MM-DD`.

# %%
cancellation = campaign_c.cancel()
cancellation

# %% tags=["keep-output"]
cancellation.counts

# %% [markdown]
# **Rehearsal only: move the clock two days on.** Nobody gets the cancelled reminder, while
# campaign A's deferred pushes arrived at 08:00 on each person's clock:

# %% tags=["keep-output"]
if rehearse:
    sandbox.advance(days=2)  # rehearsal only: past everyone's 09:00 tomorrow
    got = sandbox.deliveries()
    got_a = got[got.notification_id.isin(result_a.notification_ids)]
    got_c = got[got.notification_id.isin(result_c.notification_ids)]
    print(f"The cancelled reminder reached {got_c.external_id.nunique()} people; "
          f"campaign A reached {got_a.external_id.nunique()}.")
    late = got_a[got_a.external_id.isin(deferred_a.external_id)].drop_duplicates("external_id")
    when = pd.to_datetime(late.delivered_at, unit="s", utc=True)
    local = [t.tz_convert(zone_of[e]).strftime("%H:%M") for t, e in zip(when, late.external_id, strict=True)]
    display(late.assign(time_zone=late.external_id.map(zone_of), delivered_local=local)
            .groupby(["time_zone", "delivered_local"]).size().rename("people"))

# %% jupyter={"source_hidden": true} tags=["check"]
# Check: the reminder reached nobody and the campaign says cancelled; everyone A reached got
# it once, the deferred ones at 08:00 their time.
assert cancellation.counts["cancelled"] == result_c.summary["sent"]
assert campaign_c.status == "cancelled"
if rehearse:
    assert got_c.empty and campaign_c.report().state == "canceled"
    assert set(got_a.external_id) == reached_by_a
    assert got_a.groupby("external_id").notification_id.nunique().max() == 1
    assert set(local) == {"08:00"}

# %% [markdown]
# A cancelled campaign stays cancelled: `send()` refuses, so a re-run of the notebook (or a
# scheduler) cannot send it by mistake. `send(reopen=True)` sends it after all, with new
# requests, to the people the cancel stopped (never twice to anyone it already reached).

# %%
try:
    campaign_c.send(progress=False)
except osn.errors.CampaignConflict as refused:
    print(refused)

# %% [markdown]
# ## The rules as the default of every campaign
#
# `osn.set_rules(rules)` makes them the default of every campaign, experiment and send panel of
# this notebook (`app_id=` limits it to one app): a campaign given no `rules=` follows them, and
# its plan lists them. `osn.set_rules(None)` removes the default.

# %% tags=["keep-output"]
osn.set_rules(rules)
campaign_d = osn.Campaign(f"third-tip-{today}", signups, tip, client, journal=journal, now=clock)
campaign_d.plan().rules

# %% [markdown]
# Without a notebook, `onesig-nb send` takes the same rules from a YAML file:
#
# ```
# onesig-nb send --cohort workspace/segment-logs --audience new_signups \
#     --message message.yaml --name first-tip --rules rules.yaml
# ```
#
# The file holds the same names as `osn.Rules`. (`--cohort` loads the traits Segment has: the
# sample's cohorts have no `timezone` trait, so there the quiet hours use `default_timezone` for
# everyone, and the plan says so.)

# %% tags=["keep-output"]
rules_yaml = """\
max_per_person: [1, 24h]
quiet_hours: ["21:00", "08:00"]
timezone_trait: timezone
default_timezone: UTC
suppress: "plan == 'business'"
"""
(ws / "rules.yaml").write_text(rules_yaml, encoding="utf-8")
print(rules_yaml)

# %% jupyter={"source_hidden": true} tags=["check"]
# Check: the default applies to a campaign given no rules, and the file says the same rules.
from onesig_nb.campaign.rules import load_rules

assert campaign_d.plan().rules == rules.lines()
assert load_rules(ws / "rules.yaml") == rules
