# %% [markdown]
# # Loading Segment cohorts
#
# A *cohort* is a list of people (their OneSignal **external id**, which is Segment's `userId`)
# plus their traits. You can load one from wherever your Segment data lives:
#
# | source | what it is |
# |---|---|
# | the **archive** | Segment's S3 / GCS export: folders of gzipped event files |
# | an **Engage CSV** | the file you download from an audience's page |
# | the **warehouse** | Segment's tables in DuckDB, Snowflake, PostgreSQL, ... (SQL) |
# | a **DataFrame** | anything you built yourself in pandas |

# %%
import onesig_nb as osn
from onesig_nb.samples import ensure_workspace

ws = ensure_workspace()             # the sample Segment workspace (made the first time, reused after)
client = osn.connect(workspace=ws)  # no API key set -> the local OneSignal sandbox

# %% [markdown]
# ## Which audiences are there?

# %% tags=["keep-output"]
audiences = osn.list_audiences(ws / "segment-logs")
audiences

# %% [markdown]
# ## From the archive
#
# The **load report** says what was read and what was skipped, and why (a broken line in a
# file, a duplicate event, ...). It is worth a glance before you send anything.

# %%
cohort = osn.load_cohort(ws / "segment-logs", audience="high_value_users",
                         traits=["first_name", "plan", "ltv", "language"])
cohort.report

# %%
cohort.df.head()

# %% jupyter={"source_hidden": true} tags=["check"]
# Check: the same people as the sample's known answer.
from onesig_nb.samples import load_manifest

truth = load_manifest(ws)["audiences"]["high_value_users"]
assert sorted(cohort.external_ids) == truth["by_user_id"]

# %% [markdown]
# ## User id or anonymous id?
#
# OneSignal knows people by the **external id** your app set, which is usually Segment's
# `userId`. Visitors who never logged in only have an `anonymousId`; use `id_type="anonymous_id"`
# only if your app sets *that* as the external id. By anonymous id you usually get *more* ids:
# one logged-in person can have several anonymous ids (devices, cleared cookies).

# %% tags=["keep-output"]
by_anon = osn.load_cohort(ws / "segment-logs", audience="high_value_users", id_type="anonymous_id")
print(f"by user id: {len(cohort)} people, by anonymous id: {len(by_anon)}")

# %% jupyter={"source_hidden": true} tags=["check"]
assert sorted(by_anon.external_ids) == truth["by_anonymous_id"]

# %% [markdown]
# ## From an Engage CSV download
#
# Both the *formatted* and the *unformatted* download work.

# %% tags=["keep-output"]
from_csv = osn.load_cohort(ws / "engage-csv" / "cart_abandoners-formatted.csv")
print(f"{len(from_csv)} people in the CSV download")

# %% [markdown]
# ## From the warehouse (SQL)
#
# Segment's warehouse tables (`identifies`, `users`, `audience_entered`, ...) answer the same
# question with SQL. Here they live in a DuckDB file; a `postgresql://...` URL works the same way.

# %% tags=["keep-output"]
from_sql = osn.load_cohort(ws / "warehouse.duckdb", audience="high_value_users")
print(f"{len(from_sql)} people, same as the archive")

# %% jupyter={"source_hidden": true} tags=["check"]
assert sorted(from_sql.external_ids) == truth["by_user_id"]

# %% [markdown]
# ## From a DataFrame you made yourself

# %% tags=["keep-output"]
import pandas as pd

vip = pd.DataFrame({"external_id": ["user-1", "user-2"], "plan": ["pro", "business"]})
osn.load_cohort(vip).df

# %% [markdown]
# ## Comparing two audiences
#
# Cohorts are lists of ids, so plain set arithmetic answers "who is in both?".

# %% tags=["keep-output"]
carts = osn.load_cohort(ws / "segment-logs", audience="cart_abandoners")
both = set(carts.external_ids) & set(cohort.external_ids)
print(f"{len(both)} high-value users also abandoned a cart")

# %% [markdown]
# ## Audience sizes over time
#
# `as_of=` replays the events up to a moment, so you can see how an audience grew and shrank.

# %%
import pandas as pd

moments = pd.date_range("2025-03-03", "2025-03-31", freq="7D", tz="UTC")  # the sample's month
sizes = pd.DataFrame({
    key: [len(osn.load_cohort(ws / "segment-logs", audience=key, as_of=m)) for m in moments]
    for key in ["cart_abandoners", "high_value_users"]
}, index=moments.date)
sizes.plot(marker="o", title="Audience members over time", ylabel="people");
