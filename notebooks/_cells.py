"""The cells of the numbered notebooks, as plain Python data (read by ``_build.py``).

Each notebook is a list of ``(kind, source)`` or ``(kind, source, tags)``; kind is ``"md"`` or
``"code"``. Tag ``keep-output`` marks the few cells whose (deterministic) outputs are committed.
"""

# ruff: noqa: E501

KEEP = ("keep-output",)
#: Cells that check the notebook against the sample's known answers. They are for the people who
#: maintain the notebooks (nbval runs them); Lab shows them collapsed and Voilà never shows code.
CHECK = ("check",)

SETUP = """\
import onesig_nb as osn
from onesig_nb.samples import ensure_workspace

ws = ensure_workspace()             # the sample Segment workspace (made the first time, reused after)
client = osn.connect(workspace=ws)  # no API key set -> the local OneSignal sandbox
"""

JOURNAL_MD = """\
**The journal is the campaign's logbook.** It records who was sent what, *before* and *after*
each request, so a campaign is sent exactly once: run the notebook again (or restart the
kernel in the middle of a send) and it picks up where it stopped instead of pushing twice.
We keep **one logbook per OneSignal app**, named after the app id, in the workspace's
`journals/` folder. So the sandbox and your real app never share a history, and a brand-new
sandbox (a new app) starts with a clean page.
"""

JOURNAL = """\
journal = ws / "journals" / f"{client.app_id}.sqlite"
"""

# ------------------------------------------------------------------------------------------
QUICKSTART = [
    (
        "md",
        """\
# Quickstart: from a Segment audience to a push

In ten cells you will load the people in a Segment audience, write a message, look at it on
their phones, send yourself a test, send it to everyone, and see the results.

Everything here runs offline against a **local OneSignal sandbox** and a **sample Segment
workspace**, so nothing reaches a real phone. Run the cells from top to bottom
(*Run ▸ Run All Cells* is fine: nothing is sent until you click a button).
""",
    ),
    ("code", SETUP),
    (
        "md",
        """\
## 1. Load an audience

`cart_abandoners` is an Engage audience: people who put something in their cart and left.
`load_cohort` reads Segment's archive and works out who is in it *right now*.
""",
    ),
    (
        "code",
        """\
cohort = osn.load_cohort(ws / "segment-logs", audience="cart_abandoners")
print(f"{len(cohort)} people are in cart_abandoners")
""",
        KEEP,
    ),
    (
        "code",
        """\
# Check: the same people as the sample's known answer.
from onesig_nb.samples import load_manifest

truth = load_manifest(ws)["audiences"]["cart_abandoners"]
assert sorted(cohort.external_ids) == truth["by_user_id"]
""",
        CHECK,
    ),
    (
        "md",
        """\
## 2. Write the message and look at it

`{{ first_name | default: 'there' }}` is filled in per person; people without a first name
get "there". Pick a person in the preview to see *their* phone.
""",
    ),
    (
        "code",
        """\
msg = osn.Message(
    headings="You left something behind",
    contents="Hi {{ first_name | default: 'there' }}, your cart is still waiting for you.",
    url="https://shop.example.com/cart",
)
""",
    ),
    (
        "code",
        """\
from onesig_nb.widgets import MessagePreview

MessagePreview(msg, cohort)
""",
    ),
    (
        "md",
        JOURNAL_MD
        + """
Your **test user** is the phone you send the test to first. The sandbox comes with a pretend
iPhone called `qa-you`; with a real app, put your own external id there.
""",
    ),
    (
        "code",
        JOURNAL
        + """\
campaign = osn.Campaign("quickstart-cart-nudge", cohort, msg, client, journal=journal,
                        test_users=["qa-you"])
campaign.plan()
""",
    ),
    (
        "md",
        """\
## 3. Send: a test first, then everyone

Click **Send test**, check the test phone, then click **Send** and confirm. If the campaign was
already sent (say, you ran this notebook before), the panel says so and sends nothing.
""",
    ),
    (
        "code",
        """\
from onesig_nb.widgets import SendPanel

SendPanel(campaign)
""",
    ),
    (
        "md",
        """\
## 4. Results

Run this after you clicked **Send**: who got it and who could not (no subscribed device). Before
the send it simply says that nothing was sent yet.
""",
    ),
    (
        "code",
        """\
result = campaign.result()  # read from the journal: sends nothing
result
""",
    ),
    (
        "code",
        """\
# Check: everyone the journal marks "sent" got exactly one push in the sandbox; nobody else did.
sent = set(result.to_frame().query("status == 'sent'").external_id)
assert sent <= set(truth["reachable"])
if client.sandbox is not None:
    got = client.sandbox.deliveries()
    got = got[got.notification_id.isin(result.notification_ids)]
    assert set(got.external_id) == sent
    assert got.empty or got.groupby("external_id").notification_id.nunique().max() == 1
""",
        CHECK,
    ),
]

# ------------------------------------------------------------------------------------------
LOAD = [
    (
        "md",
        """\
# Loading Segment cohorts

A *cohort* is a list of people (their OneSignal **external id**, which is Segment's `userId`)
plus their traits. You can load one from wherever your Segment data lives:

| source | what it is |
|---|---|
| the **archive** | Segment's S3 / GCS export: folders of gzipped event files |
| an **Engage CSV** | the file you download from an audience's page |
| the **warehouse** | Segment's tables in DuckDB, Snowflake, PostgreSQL, ... (SQL) |
| a **DataFrame** | anything you built yourself in pandas |
""",
    ),
    ("code", SETUP),
    ("md", "## Which audiences are there?"),
    (
        "code",
        """\
audiences = osn.list_audiences(ws / "segment-logs")
audiences
""",
        KEEP,
    ),
    (
        "md",
        """\
## From the archive

The **load report** says what was read and what was skipped, and why (a broken line in a
file, a duplicate event, ...). It is worth a glance before you send anything.
""",
    ),
    (
        "code",
        """\
cohort = osn.load_cohort(ws / "segment-logs", audience="high_value_users",
                         traits=["first_name", "plan", "ltv", "language"])
cohort.report
""",
    ),
    (
        "code",
        """\
cohort.df.head()
""",
    ),
    (
        "code",
        """\
# Check: the same people as the sample's known answer.
from onesig_nb.samples import load_manifest

truth = load_manifest(ws)["audiences"]["high_value_users"]
assert sorted(cohort.external_ids) == truth["by_user_id"]
""",
        CHECK,
    ),
    (
        "md",
        """\
## User id or anonymous id?

OneSignal knows people by the **external id** your app set, which is usually Segment's
`userId`. Visitors who never logged in only have an `anonymousId`; use `id_type="anonymous_id"`
only if your app sets *that* as the external id. By anonymous id you usually get *more* ids:
one logged-in person can have several anonymous ids (devices, cleared cookies).
""",
    ),
    (
        "code",
        """\
by_anon = osn.load_cohort(ws / "segment-logs", audience="high_value_users", id_type="anonymous_id")
print(f"by user id: {len(cohort)} people, by anonymous id: {len(by_anon)}")
""",
        KEEP,
    ),
    ("code", 'assert sorted(by_anon.external_ids) == truth["by_anonymous_id"]', CHECK),
    (
        "md",
        """\
## From an Engage CSV download

Both the *formatted* and the *unformatted* download work.
""",
    ),
    (
        "code",
        """\
from_csv = osn.load_cohort(ws / "engage-csv" / "cart_abandoners-formatted.csv")
print(f"{len(from_csv)} people in the CSV download")
""",
        KEEP,
    ),
    (
        "md",
        """\
## From the warehouse (SQL)

Segment's warehouse tables (`identifies`, `users`, `audience_entered`, ...) answer the same
question with SQL. Here they live in a DuckDB file; a `postgresql://...` URL works the same way.
""",
    ),
    (
        "code",
        """\
from_sql = osn.load_cohort(ws / "warehouse.duckdb", audience="high_value_users")
print(f"{len(from_sql)} people, same as the archive")
""",
        KEEP,
    ),
    ("code", 'assert sorted(from_sql.external_ids) == truth["by_user_id"]', CHECK),
    ("md", "## From a DataFrame you made yourself"),
    (
        "code",
        """\
import pandas as pd

vip = pd.DataFrame({"external_id": ["user-1", "user-2"], "plan": ["pro", "business"]})
osn.load_cohort(vip).df
""",
        KEEP,
    ),
    (
        "md",
        """\
## Comparing two audiences

Cohorts are lists of ids, so plain set arithmetic answers "who is in both?".
""",
    ),
    (
        "code",
        """\
carts = osn.load_cohort(ws / "segment-logs", audience="cart_abandoners")
both = set(carts.external_ids) & set(cohort.external_ids)
print(f"{len(both)} high-value users also abandoned a cart")
""",
        KEEP,
    ),
    (
        "md",
        """\
## Audience sizes over time

`as_of=` replays the events up to a moment, so you can see how an audience grew and shrank.
""",
    ),
    (
        "code",
        """\
import pandas as pd

moments = pd.date_range("2025-03-03", "2025-03-31", freq="7D", tz="UTC")  # the sample's month
sizes = pd.DataFrame({
    key: [len(osn.load_cohort(ws / "segment-logs", audience=key, as_of=m)) for m in moments]
    for key in ["cart_abandoners", "high_value_users"]
}, index=moments.date)
sizes.plot(marker="o", title="Audience members over time", ylabel="people");
""",
    ),
]

# ------------------------------------------------------------------------------------------
COMPOSE = [
    (
        "md",
        """\
# Compose and preview a message

Write a message, see it on each person's phone, let the linter catch mistakes, and choose how
it is personalized.
""",
    ),
    ("code", SETUP),
    (
        "code",
        """\
cohort = osn.load_cohort(ws / "segment-logs", audience="cart_abandoners")
""",
    ),
    (
        "md",
        """\
## The composer

Type in the boxes: the preview on the right follows, person by person.
""",
    ),
    (
        "code",
        """\
from onesig_nb.widgets import MessageComposer

composer = MessageComposer(cohort)
composer
""",
    ),
    (
        "md",
        """\
## One message, several languages

Give a text per language; each person sees the one for their `language` trait (English when
we do not have theirs).
""",
    ),
    (
        "code",
        """\
msg = osn.Message(
    headings={"en": "Still thinking it over?", "es": "¿Lo sigues pensando?", "de": "Noch unentschlossen?"},
    contents={
        "en": "Hi {{ first_name | default: 'there' }}, your cart is waiting.",
        "es": "Hola {{ first_name | default: 'amigo' }}, tu carrito te espera.",
        "de": "Hallo {{ first_name | default: 'du' }}, dein Warenkorb wartet.",
    },
)
rendered = msg.render(cohort)
rendered.groupby("language").size()
""",
        KEEP,
    ),
    (
        "code",
        """\
from onesig_nb.widgets import MessagePreview

MessagePreview(msg, cohort)
""",
    ),
    (
        "md",
        """\
## Checks: catch mistakes before anyone sees them

Here `frist_name` is a typo: nobody has that trait, so everyone would see an empty gap, and
`{city}` has single braces, so it would be sent as written. `msg.lint(cohort)` catches both
and suggests the fix.
""",
    ),
    (
        "code",
        """\
oops = osn.Message(contents="Hi {{ frist_name }}, your cart in {city} is waiting.")
findings = oops.lint(cohort)
print(findings)
""",
    ),
    ("code", 'assert any(f.severity in ("error", "warning") for f in findings)', CHECK),
    ("md", "The fix: spell the trait right and give a default for people who do not have it."),
    (
        "code",
        """\
fixed = osn.Message(contents="Hi {{ first_name | default: 'there' }}, your cart is waiting.")
fixed.lint(cohort)
""",
    ),
    ("code", 'assert not [f for f in fixed.lint(cohort) if f.severity == "error"]', CHECK),
    (
        "md",
        """\
## Server or client personalization?

* **client** (pre-rendered): we fill the text in here and send each distinct text once; each
  person gets exactly the preview.
* **server**: one notification per batch; OneSignal fills in each person's **data tags** from
  what *it* stores. Cheaper, but only right if those tags are in OneSignal with today's values.

A campaign's `personalization="auto"` pre-renders unless its journal shows that a TagSync wrote
every variable's current value for every recipient (notebook 05); `campaign.plan()` says which
and why. `msg.personalization(cohort)` below only says what the message *could* use.
""",
    ),
    (
        "code",
        """\
p = msg.personalization(cohort)
print(p.mode, "-", p.reason)
""",
    ),
]

# ------------------------------------------------------------------------------------------
SEND = [
    (
        "md",
        """\
# Sending a push, safely

Plan, leave out iOS when Segment already pushes there, send a test, send to everyone, survive
an interruption, and read the delivery report. (Notebook 01 shows the same with buttons.)
""",
    ),
    ("code", SETUP),
    (
        "code",
        """\
from onesig_nb.samples import load_roster

cohort = osn.load_cohort(ws / "segment-logs", audience="high_value_users")
msg = osn.Message(
    headings="A thank-you from us",
    contents="Hi {{ first_name | default: 'there' }}, your {{ plan | default: 'account' }} perks just got better.",
)
""",
    ),
    (
        "md",
        """\
## Leave out iOS if Segment already pushes there

OneSignal's Segment integration guide warns: *"Be careful not to send the same push to iOS
from Segment and OneSignal. This will cause duplicate notifications."* If your Segment setup
already sends pushes to iOS, exclude iOS here, as we do below.
""",
    ),
    ("md", JOURNAL_MD),
    (
        "code",
        JOURNAL
        + """\
campaign = osn.Campaign("vip-thank-you", cohort, msg, client, journal=journal,
                        exclude_platforms=("ios",), test_users=["qa-you"], batch_size=50)
campaign.plan()
""",
    ),
    ("md", "## A test send first (to your own phone; in the sandbox, a pretend one)"),
    (
        "code",
        """\
sandbox = client.sandbox  # None with a real app
if sandbox is not None:  # this campaign skips iOS: give the pretend phone an Android device too
    subs = sandbox.users().set_index("external_id").subscriptions.get("qa-you", [])
    if not any(s["platform"] == "android" for s in subs):
        sandbox.add_users([{"external_id": "qa-you", "platform": "android"}])
campaign.send_test()
""",
    ),
    (
        "md",
        """\
## An interruption, and how the campaign resumes

Networks fail. Here the sandbox drops half the requests and we do not retry, so part of the
campaign fails. The journal knows exactly which batches did not go out.
""",
    ),
    (
        "code",
        """\
if sandbox is not None and campaign.status in ("new", "tested"):
    from onesig_nb.onesignal import RetryPolicy

    flaky = osn.OneSignal(client.app_id, sandbox.api_key, base_url=sandbox.url,
                          retry=RetryPolicy(max_attempts=1))
    sandbox.set_faults(rate=0.5, kinds=("503",), seed=4)
    interrupted = osn.Campaign("vip-thank-you", cohort, msg, flaky, journal=journal,
                               exclude_platforms=("ios",), batch_size=50).send(confirm=True, progress=False)
    sandbox.clear_faults()
    print(interrupted.summary["sent"], "sent,", interrupted.summary["failed"], "failed")
""",
    ),
    (
        "md",
        """\
Now simply send again. Only the batches that failed go out, with the same request ids, so
OneSignal ignores any repeat and nobody gets the push twice. (The same happens if the kernel
dies in the middle of a send.) Above 1,000 people, `send` asks you to confirm: `confirm=True`,
or the exact number of people from the plan, so a cohort that changed since refuses to send.
""",
    ),
    (
        "code",
        """\
result = campaign.send(confirm=True, progress=False)
result
""",
    ),
    (
        "code",
        """\
# Check: exactly the reachable non-iOS members got it, each once.
roster = load_roster(ws)
android_web = roster[(roster.platform != "ios") & roster.subscribed]
expected = set(cohort.external_ids) & set(android_web.external_id)
sent = set(result.to_frame().query("status == 'sent'").external_id)  # accepted by OneSignal
assert expected <= sent <= set(cohort.external_ids)
if sandbox is not None:
    got = sandbox.deliveries()
    got = got[got.notification_id.isin(result.notification_ids)]
    assert set(got.external_id) == expected and (got.platform != "ios").all()
    assert got.groupby("external_id").notification_id.nunique().max() == 1
""",
        CHECK,
    ),
    (
        "md",
        """\
## Run it again: nothing is sent twice

The journal knows this campaign is done, so a second `send` (or re-running this notebook)
sends nothing and says so.
""",
    ),
    (
        "code",
        """\
again = campaign.send(confirm=True, progress=False)
again
""",
    ),
    ("code", "assert again.already_sent and again.requests == 0", CHECK),
    ("md", "## The delivery report"),
    (
        "code",
        """\
report = campaign.report()
report
""",
    ),
    (
        "code",
        """\
result.to_frame().status.value_counts().plot.barh(title="Campaign status per person", xlabel="people");
""",
    ),
]

# ------------------------------------------------------------------------------------------
TAGS = [
    (
        "md",
        """\
# Syncing traits to OneSignal data tags

Copy Segment traits (plan, lifetime value, ...) onto each person in OneSignal as **data
tags**. Tags let OneSignal segment and personalize on its side. Only what changed is sent.
""",
    ),
    ("code", SETUP),
    (
        "code",
        """\
cohort = osn.load_cohort(ws / "segment-logs", audience="high_value_users", traits=["first_name", "plan", "ltv"])
""",
    ),
    (
        "md",
        JOURNAL_MD
        + """
The journal also remembers the tag values it wrote, which is how the next run knows what
changed.
""",
    ),
    (
        "code",
        JOURNAL
        + """\
sync = osn.TagSync("vip-tags", cohort, client, tags=["plan", "ltv"], journal=journal)
sync.plan()
""",
    ),
    (
        "code",
        """\
result = sync.run(progress=False)
result
""",
    ),
    (
        "md",
        """\
People who have no OneSignal user yet (they never opened the app) show up as
*not_in_onesignal*: there is nobody to tag yet. That is not a failure; the next run offers them
again, so they get their tags once they subscribe. Everyone else is updated.
""",
    ),
    (
        "code",
        """\
s = result.summary
print(f"{s['updated'] + s['unchanged']} people have their tags; "
      f"{s['not_in_onesignal']} are not in OneSignal yet; {s['failed']} failed")
""",
    ),
    (
        "code",
        'assert s["updated"] + s["unchanged"] + s["not_in_onesignal"] + s["failed"] == len(cohort)',
        CHECK,
    ),
    ("md", "## Run it again: only what changed (or failed before) is sent"),
    (
        "code",
        """\
again = osn.TagSync("vip-tags", cohort, client, tags=["plan", "ltv"], journal=journal).plan()
again
""",
    ),
    ("code", 'assert again.changed_users <= s["not_in_onesignal"] + s["failed"]', CHECK),
    (
        "md",
        """\
## Deleting a tag

A trait with no value deletes its tag. Here we stop sharing `ltv` with OneSignal.
""",
    ),
    (
        "code",
        """\
without_ltv = osn.Cohort.from_frame(cohort.df.assign(ltv=None), audience="high_value_users")
osn.TagSync("vip-tags", without_ltv, client, tags=["plan", "ltv"], journal=journal).run(progress=False)
""",
    ),
    (
        "code",
        """\
# Check: the sandbox no longer holds an ltv tag for someone who had one.
if client.sandbox is not None:
    someone = result.to_frame().query("status == 'updated'").external_id.iloc[0]
    assert "ltv" not in client.sandbox.user_tags(someone)
""",
        CHECK,
    ),
    (
        "md",
        """\
## Personalize on the server from those tags

A campaign lets OneSignal fill the text in (*server*: one notification per batch) only when the
journal proves the tags hold today's values. This message also uses `first_name`, which we have
not synced yet, so at first it is pre-rendered. Sync `first_name` for the people OneSignal
knows, and the plan switches to server mode and names the TagSync it relies on.
""",
    ),
    (
        "code",
        """\
msg = osn.Message(contents="Hi {{ first_name | default: 'there' }}, your {{ plan }} plan has a new perk.")
print(osn.Campaign("vip-perk", cohort, msg, client, journal=journal).plan().personalization)
in_onesignal = cohort.subset(result.to_frame().query("status != 'not_in_onesignal'").external_id)
osn.TagSync("vip-names", in_onesignal, client, tags=["first_name"], journal=journal).run(progress=False)
plan = osn.Campaign("vip-perk", in_onesignal, msg, client, journal=journal).plan()
print(plan.personalization)
""",
        KEEP,
    ),
]

# ------------------------------------------------------------------------------------------
LIVE = [
    (
        "md",
        """\
# Going live

Everything in these notebooks runs against the sandbox. To send to real phones, give
onesig_nb your OneSignal app id and REST API key. **Never type the key into a notebook**:
put it in a `.env` file next to your notebooks (and keep that file out of git):

```
ONESIGNAL_APP_ID=your-app-id
ONESIGNAL_REST_API_KEY=your-rest-api-key
```

Then `osn.connect()` uses your real app. Nothing else in the notebooks changes. Every cell
below still runs against the sandbox when no key is set.
""",
    ),
    ("code", SETUP),
    (
        "md",
        """\
## Check the connection before anything else

`client.check()` asks OneSignal for a notification that cannot exist: "not found" proves that
the key and the app id are right, and nothing is sent. A wrong key or app id stops here with
an error that says what to fix, instead of at send time.
""",
    ),
    (
        "code",
        """\
info = client.check()
print(f"Connected to OneSignal app {info['app_id']} with a valid API key ({info['key']}).")
print("This is the SANDBOX: nothing reaches real phones." if client.is_sandbox
      else "This is your REAL app: sends reach real phones.")
""",
    ),
    (
        "md",
        """\
## Your first live send: a test to your own phone

Find your own external id in the OneSignal dashboard (*Audience > Users*, search your email),
then send yourself a test before any campaign. In the sandbox, the pretend phone `qa-you`
stands in for yours.
""",
    ),
    (
        "code",
        """\
my_id = "qa-you"  # live: your own external id
cohort = osn.load_cohort(ws / "segment-logs", audience="cart_abandoners")
hello = osn.Message(headings="Test from onesig_nb", contents="Hi {{ first_name | default: 'there' }}!")
osn.Campaign("live-hello", cohort, hello, client, journal=ws / "journals" / f"{client.app_id}.sqlite",
             ).send_test([my_id])
""",
    ),
    (
        "md",
        """\
## Two API generations

OneSignal has a current API and an older ("legacy") one. Both work; the current one takes
up to 20,000 people per request, the legacy one 2,000. Pick with `ONESIGNAL_API=legacy`.
""",
    ),
    (
        "code",
        """\
if client.sandbox is not None:
    legacy = osn.OneSignal(client.app_id, client.sandbox.api_key, base_url=client.sandbox.url, api="legacy")
else:
    legacy = osn.connect(api="legacy")
print("current:", client.max_ids_per_request, "people per request;",
      "legacy:", legacy.max_ids_per_request)
""",
        KEEP,
    ),
    (
        "md",
        """\
## Before your first real campaign

* **Rate limits** are handled for you: requests are spread under OneSignal's limits (150
  pushes/s on the free plan, 1,000 tag edits/s, one edit per person per second), retried with
  the same request id when OneSignal is busy, and never duplicated.
* **iOS and Segment**: if Segment already sends pushes to iOS for this app, pass
  `exclude_platforms=("ios",)` so nobody gets the same push twice (notebook 04).
* **One journal per app**: the journal is named after the app id, so rehearsals in the sandbox
  never mark a real campaign as sent. Keep the `journals/` folder: it is what makes re-runs safe.
* **Scheduled runs**: `onesig-nb send` refuses to run without a key, so a scheduler missing its
  `.env` fails loudly instead of rehearsing against a throwaway sandbox.
""",
    ),
]

# ------------------------------------------------------------------------------------------
SCHEDULED = [
    (
        "md",
        """\
# A scheduled campaign: welcome new audience members every day

This notebook is meant to run **without you**, every morning, from a scheduler:

```
papermill 07-scheduled-campaign.ipynb out.ipynb -p audience new_signups -p require_key True
onesig-nb send ...      # the same without a notebook; refuses without a key (--sandbox to rehearse)
```

On a schedule, pass `require_key True`: a machine that lost its `.env` then fails loudly instead
of quietly rehearsing against a throwaway sandbox.

Each run sends the welcome push only to people who **joined the audience since the last
run**. The journal remembers who already got it.
""",
    ),
    (
        "code",
        """\
# Parameters (papermill replaces this cell's values)
audience = "new_signups"
campaign_name = "daily-welcome"
workspace = None  # None: the sample workspace (or $ONESIG_NB_WORKSPACE)
require_key = False  # True on a schedule: no ONESIGNAL_REST_API_KEY means stop, not rehearse
""",
        ("parameters",),
    ),
    (
        "code",
        """\
import onesig_nb as osn
from onesig_nb.samples import ensure_workspace

ws = ensure_workspace(workspace)
client = osn.connect(workspace=ws)
if require_key and client.is_sandbox:
    raise SystemExit("No ONESIGNAL_REST_API_KEY: this scheduled run stops instead of rehearsing.")
journal = ws / "journals" / f"{client.app_id}.sqlite"
""",
    ),
    (
        "code",
        """\
cohort = osn.load_cohort(ws / "segment-logs", audience=audience)
msg = osn.Message(headings="Welcome!", contents="Hi {{ first_name | default: 'there' }}, glad you are here.")
campaign = osn.Campaign(campaign_name, cohort, msg, client, journal=journal)
result = campaign.send(confirm=True, extend=True, progress=False)
s = result.summary
print(f"{s['sent']} new members welcomed; {s['unsubscribed']} unsubscribed; {s['failed']} failed")
""",
    ),
]

NOTEBOOKS = {
    "01-quickstart": QUICKSTART,
    "02-load-segment-cohorts": LOAD,
    "03-compose-and-preview": COMPOSE,
    "04-send-push": SEND,
    "05-sync-tags": TAGS,
    "06-going-live": LIVE,
    "07-scheduled-campaign": SCHEDULED,
}
