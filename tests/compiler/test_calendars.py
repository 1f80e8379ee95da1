"""Business-day calendars keep the holidays they find in the user's cache: a process that finds
them there never imports the holidays package (about 75 ms), and counts exactly as one that did."""
from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys

from rplang.compiler import calendars
from rplang.compiler.calendars import BusinessCalendar

# counts business days from a few dates, and says whether the holidays package was imported
_COUNT = """import datetime, json, sys
from rplang.compiler.calendars import BusinessCalendar
calendar = BusinessCalendar("US")
days = [calendar.add(datetime.date(2026, 12, 20) + datetime.timedelta(days=n), 10).isoformat() for n in range(40)]
print(json.dumps({"days": days, "imported": "holidays" in sys.modules}))
"""


def count_in_a_process(cache) -> dict:
    done = subprocess.run([sys.executable, "-c", _COUNT], capture_output=True, text=True, check=True,
                          env={**os.environ, "RPL_CACHE_DIR": str(cache)})
    return json.loads(done.stdout)


def test_a_second_process_counts_from_the_cache_without_the_holidays_package(tmp_path):
    first = count_in_a_process(tmp_path)
    second = count_in_a_process(tmp_path)
    assert first["imported"] and not second["imported"]
    assert second["days"] == first["days"]
    assert "2027-01-05" in first["days"]  # Christmas and New Year's Day (observed) are skipped


def test_cached_holidays_are_the_packages_own(tmp_path, monkeypatch):
    import holidays

    monkeypatch.setenv("RPL_CACHE_DIR", str(tmp_path))
    BusinessCalendar("GB").load_years(2020, 2031)  # stores each year
    cached = BusinessCalendar("GB")
    for year in range(2020, 2032):
        assert calendars._stored("GB", year) is not None
        expected = {d for d in holidays.country_holidays("GB", years=(year - 1, year, year + 1)) if d.year == year}
        assert cached.holidays(year) == expected


def test_a_damaged_entry_is_a_miss_and_the_answer_stays_right(tmp_path, monkeypatch):
    monkeypatch.setenv("RPL_CACHE_DIR", str(tmp_path))
    right = BusinessCalendar("US").holidays(2027)
    entry = tmp_path / calendars._entry("US", 2027)
    data = entry.read_bytes()
    entry.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))  # one bit of the last ordinal
    assert calendars._stored("US", 2027) is None
    assert BusinessCalendar("US").holidays(2027) == right
    assert datetime.date(2027, 7, 5) in right  # Independence Day observed on the Monday


def test_the_entry_is_named_by_the_installed_package_so_an_upgrade_is_a_miss(monkeypatch):
    monkeypatch.setattr(calendars, "_package_stamp", lambda: "100-1")
    before = calendars._entry("US", 2027)
    monkeypatch.setattr(calendars, "_package_stamp", lambda: "101-2")
    assert calendars._entry("US", 2027) != before
    monkeypatch.setattr(calendars, "_package_stamp", lambda: None)  # nowhere to name it from
    assert calendars._entry("US", 2027) is None


def test_without_a_cache_the_calendar_still_counts(monkeypatch):
    monkeypatch.setenv("RPL_NO_CACHE", "1")
    assert BusinessCalendar("US").add(datetime.date(2026, 12, 24), 1) == datetime.date(2026, 12, 28)
    assert BusinessCalendar(None).add(datetime.date(2026, 12, 24), 1) == datetime.date(2026, 12, 25)
