"""Preview: rendering personalized copy for a whole cohort, and the widget's edit latency.

- ``Message.render(cohort)`` for 100,000 users, once with values that repeat (first names and
  cities, as in real cohorts) and once with every user distinct (the worst case for its
  render-once-per-distinct-values cache); peer: naive per-user python-liquid rendering (parse
  once, ``render(**ctx)`` per user), the code a notebook user would write.
- The same with a template of variables and ``default`` filters only, which is rendered column
  by column without Liquid (target: at least 10x the per-user peer with all values distinct).
- ``MessagePreview``: time from a template edit to the updated preview HTML; peer: re-rendering
  the whole cohort on every edit (what a naive preview would do).
"""

from __future__ import annotations

import random
import time

from bench._harness import median, row, time_call

AREA = "preview"

#: (users, runs for ours, runs for the naive peer, widget edits)
SIZES = {"quick": (10_000, 3, 1, 10), "full": (100_000, 3, 1, 30)}

CONTENTS = "Hi {{ first_name | default: 'there' }}{% if city %} from {{ city }}{% endif %}!"
HEADING = "{{ first_name | default: 'Hello' }}, your cart misses you"
#: Variables and defaults only: the column path (no Liquid), same heading.
SIMPLE_CONTENTS = "Hi {{ first_name | default: 'there' }}, news from {{ city | default: 'town' }}!"
NAMES = ["Ana", "Ben", "Chloé", "Dmitri", "Eva", "Femi", "Gus", "Hana", "Ivo", "Jun"] * 5
CITIES = ["Berlin", "Lisbon", "Paris", "Madrid", "Austin", "Oslo", "Lagos", "Kyoto"]


def frame(n: int, *, distinct: bool):
    """external_id, first_name, city, language; ~15% without a name, ~15% without a city."""
    import pandas as pd

    rng = random.Random(11)
    rows = []
    for i in range(n):
        name = f"Name{i}" if distinct else rng.choice(NAMES) + str(rng.randrange(5))
        city = f"City{i}" if distinct else rng.choice(CITIES)
        rows.append(
            {
                "external_id": f"pv-{i:06d}",
                "first_name": None if rng.random() < 0.15 else name,
                "city": None if rng.random() < 0.15 else city,
                "language": "en",
            }
        )
    return pd.DataFrame(rows)


def naive(df, contents_source: str = CONTENTS) -> list[tuple[str, str]]:
    """Per-user python-liquid: what a notebook user writes without a cache."""
    from liquid import Environment

    env = Environment()
    contents, heading = env.from_string(contents_source), env.from_string(HEADING)
    out = []
    for rec in df.to_dict("records"):
        ctx = {k: v for k, v in rec.items() if isinstance(v, str) and v != ""}
        out.append((heading.render(**ctx), contents.render(**ctx)))
    return out


def _render_rows(size: str) -> list[dict]:
    from onesig_nb import Cohort, Message

    n, our_runs, peer_runs, _ = SIZES[size]
    full = size == "full"
    rows = []
    cases = (
        (CONTENTS, False, "repeating values", "< 1 s (100k users)", lambda w, r: w < 1.0),
        (CONTENTS, True, "all distinct", "< 4 s (100k users)", lambda w, r: w < 4.0),
        (SIMPLE_CONTENTS, True, "all distinct, variables and defaults only",
         ">= 10x per-user python-liquid", lambda w, r: r >= 10),
    )  # fmt: skip
    for source, distinct, label, target, check in cases:
        msg = Message(contents=source, headings=HEADING)
        df = frame(n, distinct=distinct)
        cohort = Cohort.from_frame(df)
        ours = [time_call(lambda c=cohort, m=msg: m.render(c)) for _ in range(our_runs)]
        peer = [time_call(lambda d=df, s=source: naive(d, s)) for _ in range(peer_runs)]
        rendered, expected = ours[0][2], peer[0][2]
        agree = list(rendered["contents"]) == [c for _, c in expected] and list(
            rendered["heading"]
        ) == [h for h, _ in expected]
        wall = median(o[0] for o in ours)
        peer_wall = median(p[0] for p in peer)
        rows.append(
            row(
                AREA,
                f"render {n:,} users, {label}",
                ours=wall,
                peer=peer_wall,
                peer_name="per-user python-liquid",
                unit="s",
                target=target,
                met=check(wall, peer_wall / wall if wall else 0) if full else None,
                note=("same texts as the peer" if agree else "TEXTS DIFFER from the peer")
                + f"; heading + contents; ours median of {our_runs}"
                + ("" if full else "; target applies at full size"),
                higher_is_better=False,
            )
        )
    return rows


def _widget_rows(size: str) -> list[dict]:
    from onesig_nb import Cohort, Message
    from onesig_nb.widgets import MessagePreview

    n, _, _, edits = SIZES[size]
    df = frame(n, distinct=False)
    cohort = Cohort.from_frame(df)
    preview = MessagePreview(Message(contents=CONTENTS, headings=HEADING), cohort)
    latencies = []
    for i in range(edits):
        new = Message(contents=CONTENTS + f" ({i})", headings=HEADING)
        t0 = time.perf_counter()
        edit(preview, new)
        html = preview_html(preview)
        latencies.append(time.perf_counter() - t0)
        if f"({i})" not in html:
            raise RuntimeError("the preview did not show the edited template")
    naive_one = time_call(lambda: naive(df))[0]
    ours = median(latencies)
    return [
        row(
            AREA,
            "widget update after a template edit",
            ours=ours * 1000,
            peer=naive_one * 1000,
            peer_name="re-render the cohort per edit",
            unit="ms",
            target="< 100 ms",
            met=ours < 0.1,
            note=f"MessagePreview on {n:,} users; median of {edits} edits, edit to updated HTML",
            higher_is_better=False,
        )
    ]


def edit(preview, message) -> None:
    """Apply a template edit the way the composer does."""
    preview.message = message


def preview_html(preview) -> str:
    """The HTML the widget currently shows."""
    return str(preview.devices.value)


def run(size: str) -> list[dict]:
    return _render_rows(size) + _widget_rows(size)
