"""Pure planning for the Cassandra store's applies: new totals and the writes that install them.

Kept apart from the I/O so the rules (what changes, what is rewritten after a crash, what
the ``'*'`` rollup place may touch) are testable without a server.
"""

from collections import defaultdict

from photoatlas.counts.keys import ALL_PERIOD, ALL_PLACES, year_of_month

# A place's totals: {(time_level, period, item): (n, weight)}; its months: {(period, item): (n, weight)}.


def rollup(months: dict) -> dict:
    """Month totals of one place -> its month, year and all totals (zero counts dropped)."""
    out, sums = {}, defaultdict(lambda: [0, 0])
    for (period, item), (n, w) in months.items():
        if n <= 0:
            continue
        out[("month", period, item)] = (n, w)
        for key in (("year", year_of_month(period), item), ("all", ALL_PERIOD, item)):
            sums[key][0] += n
            sums[key][1] += w
    out.update({k: tuple(v) for k, v in sums.items()})
    return out


def new_totals(old: dict, touched_periods: set, month_sums: dict) -> dict:
    """A place's totals after its ``touched_periods`` were re-summed to ``month_sums[period]`` rows.

    ``month_sums[period]`` is the list of ``(item, n, weight)`` contribution rows of every hour
    to that month key; untouched months keep their old totals.
    """
    months = {(per, item): v for (tl, per, item), v in old.items() if tl == "month" and per not in touched_periods}
    for per in touched_periods:
        for item, n, w in month_sums[per]:
            acc = months.get((per, item), (0, 0))
            months[(per, item)] = (acc[0] + n, acc[1] + w)
    return rollup(months)


def plan_writes(olds: dict, news: dict, bucket, recovering: bool) -> dict[str, list[tuple]]:
    """Statement name -> bind tuples that move the totals tables from ``olds`` to ``news``.

    ``olds``/``news``: {(metric, geo_level, place): totals}; ``bucket(geo_level, place)``.
    Normally only changed rows are written. ``recovering`` (a crashed apply of this hour left
    rows we cannot name): every new by_period/top row of the touched places is rewritten, and
    stale rows come from a sweep instead of from ``olds``. The ``'*'`` place (level totals)
    lives only in counts_by_place.
    """
    plan = {name: [] for name in ("top_del", "top_put", "period_del", "period_put", "place_del", "place_put")}
    for (m, g, pl), new in news.items():
        old, b = olds[(m, g, pl)], bucket(g, pl)
        for key in old.keys() | new.keys():
            tl, per, item = key
            before, after = old.get(key), new.get(key)
            if before != after:
                plan["place_put" if after else "place_del"].append((m, g, pl, tl, per, item, *(after or ())))
            if pl == ALL_PLACES or (before == after and not recovering):
                continue
            plan["period_put" if after else "period_del"].append((m, g, tl, per, b, pl, item, *(after or ())))
            count_changed = (before or (0,))[0] != (after or (0,))[0]
            if m == "photos" and (recovering or count_changed):
                if before and not recovering:
                    plan["top_del"].append((g, tl, per, b, before[0], pl))
                if after:
                    plan["top_put"].append((g, tl, per, b, after[0], pl))
    return plan


def sweep_partitions(periods: dict, bucket) -> list[tuple]:
    """The by_period partitions ``(metric, geo_level, time_level, period, bucket)`` touched places live in."""
    parts = set()
    for (m, g, pl), pers in periods.items():
        if pl == ALL_PLACES:
            continue
        b = bucket(g, pl)
        parts |= {(m, g, "month", per, b) for per in pers}
        parts |= {(m, g, "year", year_of_month(per), b) for per in pers}
        parts.add((m, g, "all", ALL_PERIOD, b))
    return sorted(parts)


def stale_rows(news: dict, period_rows: dict, top_rows: dict) -> tuple[list, list]:
    """Rows of touched places found in swept partitions that their new totals do not hold.

    ``period_rows``: {by_period partition: [(place, item, n, w)]}; ``top_rows``: {top
    partition (geo_level, time_level, period, bucket): [(place, n)]}. Returns bind tuples for
    ``top_del`` and ``period_del``.
    """
    stale_period = [
        (m, g, tl, per, b, place, item)
        for (m, g, tl, per, b), rows in period_rows.items()
        for place, item, _, _ in rows
        if (m, g, place) in news and (tl, per, item) not in news[(m, g, place)]
    ]
    stale_top = []
    for (g, tl, per, b), rows in top_rows.items():
        for place, n in rows:
            if ("photos", g, place) in news:
                final = news[("photos", g, place)].get((tl, per, ""))
                if final is None or final[0] != n:
                    stale_top.append((g, tl, per, b, n, place))
    return stale_top, stale_period
