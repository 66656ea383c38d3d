from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from photoatlas.partitions import hour_key, hour_key_from_timestamp, hour_window

moments = st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(timezone.utc))


@given(moments)
def test_every_moment_falls_in_its_own_hour(moment):
    start, end = hour_window(hour_key(moment))
    assert start <= moment < end
    assert end - start == timedelta(hours=1)


@given(moments)
def test_key_of_window_start_is_the_key(moment):
    key = hour_key(moment)
    assert hour_key(hour_window(key)[0]) == key


def test_keys_match_dagster_format_and_are_utc():
    paris = timezone(timedelta(hours=2))
    assert hour_key(datetime(2026, 7, 1, 0, 59, tzinfo=paris)) == "2026-06-30-22:00"
    assert hour_key_from_timestamp(0) == "1970-01-01-00:00"


def test_naive_datetimes_and_bad_keys_are_refused():
    with pytest.raises(ValueError):
        hour_key(datetime(2026, 1, 1))
    for bad in ("2026-01-01", "2026-01-01-10:30", "yesterday"):
        with pytest.raises(ValueError):
            hour_window(bad)
