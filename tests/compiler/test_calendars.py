"""Business-day calendars keep the holidays they find in the user's cache: a process that finds
them there never imports the holidays package (about 75 ms), and counts exactly as one that did."""
from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys
from pathlib import Path

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


def entry(cache) -> Path:
    [found] = [path for path in cache.iterdir() if path.name.startswith("holidays-")]
    return found


def test_cached_holidays_are_the_packages_own(tmp_path):
    import holidays

    count_in_a_process(tmp_path)  # stores the decades around this year
    stored = calendars._parsed(user_cache_read(tmp_path, entry(tmp_path).name))
    this_year = datetime.date.today().year
    assert sorted(stored) == list(range(this_year - calendars._SPAN, this_year + calendars._SPAN + 1))
    for year, days in stored.items():
        assert days == {d for d in holidays.country_holidays("US", years=(year - 1, year, year + 1))
                        if d.year == year}


def user_cache_read(cache, name: str) -> bytes | None:
    done = subprocess.run([sys.executable, "-c", "import sys; from rplang.policy_lang import user_cache; "
                           "data = user_cache.read(sys.argv[1]); sys.stdout.buffer.write(b'-' if data is None else data)",
                           name], capture_output=True, check=True, env={**os.environ, "RPL_CACHE_DIR": str(cache)})
    return None if done.stdout == b"-" else done.stdout


def test_a_damaged_entry_is_a_miss_and_the_answer_stays_right(tmp_path):
    right = count_in_a_process(tmp_path)
    path = entry(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))  # one bit of the last ordinal
    assert user_cache_read(tmp_path, path.name) is None
    again = count_in_a_process(tmp_path)
    assert again["imported"] and again["days"] == right["days"]


def test_the_entry_is_named_by_the_installed_package_so_an_upgrade_is_a_miss(tmp_path):
    count_in_a_process(tmp_path)
    path = entry(tmp_path)
    path.rename(tmp_path / path.name.replace("holidays-US-", "holidays-US-0-"))  # another package's entry
    assert count_in_a_process(tmp_path)["imported"]


def test_what_the_cache_holds_is_read_back_as_written():
    years = {2026: frozenset({datetime.date(2026, 1, 1), datetime.date(2026, 12, 25)}), 2027: frozenset()}
    assert calendars._parsed(calendars._written(years)) == years


def test_without_a_cache_the_calendar_still_counts(monkeypatch):
    monkeypatch.setenv("RPL_NO_CACHE", "1")
    assert BusinessCalendar("US").add(datetime.date(2026, 12, 24), 1) == datetime.date(2026, 12, 28)
    assert BusinessCalendar(None).add(datetime.date(2026, 12, 24), 1) == datetime.date(2026, 12, 25)
    assert BusinessCalendar("US").add(datetime.date(1900, 12, 24), 1) == datetime.date(1900, 12, 26)  # far years too
