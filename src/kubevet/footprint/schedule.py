"""Time specs -> share of the week a workload is up, and cron schedules -> runs per month.

Two formats are read (formats only; no tool's code is used):
- kube-downscaler annotations: `Mon-Fri 07:30-20:30 Europe/Berlin`, comma-separated, or
  the keywords `always` / `never`. Absolute ISO ranges are one-off, so they give None.
- cron expressions (five fields, @hourly-style macros), as in CronJob `schedule` and the
  KEDA cron scaler's `start` / `end`.

The time zone is ignored: a weekly share of hours does not depend on it.
"""

from __future__ import annotations

import datetime as dt
import re

from kubevet import lazy_compile

MINUTES_PER_WEEK = 7 * 24 * 60
DAYS = {"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6}
MONTHS = {
    m: i
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1
    )
}
MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_RANGE = lazy_compile(r"^(\w{3})(?:-(\w{3}))?\s+(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})(?:\s+\S+)?$")


class ScheduleError(ValueError):
    pass


def weekly_share(spec: str) -> float | None:
    """Share of the week a kube-downscaler time spec covers; None when not recurring."""
    text = spec.strip()
    if text.lower() == "always":
        return 1.0
    if text.lower() == "never":
        return 0.0
    minutes: set[int] = set()
    for part in text.split(","):
        span = _weekly_minutes(part.strip())
        if span is None:
            return None
        minutes |= span
    return len(minutes) / MINUTES_PER_WEEK


def _weekly_minutes(part: str) -> set[int] | None:
    m = _RANGE.match(part)
    if not m:
        return None
    first, last = DAYS.get(m[1].lower()), DAYS.get((m[2] or m[1]).lower())
    if first is None or last is None:
        return None
    days = [(first + i) % 7 for i in range((last - first) % 7 + 1)]
    start, end = int(m[3]) * 60 + int(m[4]), int(m[5]) * 60 + int(m[6])
    return {d * 1440 + minute for d in days for minute in range(start, end)}


# --- cron -------------------------------------------------------------------------------


def parse_cron(expr: str) -> tuple[set[int], set[int], set[int], set[int], set[int], bool, bool]:
    """(minutes, hours, days of month, months, days of week, dom restricted, dow restricted)."""
    text = re.sub(r"^(CRON_)?TZ=\S+\s+", "", expr.strip())
    text = MACROS.get(text.lower(), text)
    fields = text.split()
    if len(fields) != 5:
        raise ScheduleError(f"{expr!r}: expected 5 cron fields")
    minute = _field(fields[0], 0, 59, {})
    hour = _field(fields[1], 0, 23, {})
    dom = _field(fields[2], 1, 31, {})
    month = _field(fields[3], 1, 12, MONTHS)
    dow = {d % 7 for d in _field(fields[4], 0, 7, DAYS)}
    return minute, hour, dom, month, dow, fields[2] not in ("*", "?"), fields[4] not in ("*", "?")


def _field(text: str, low: int, high: int, names: dict[str, int]) -> set[int]:
    out: set[int] = set()
    for item in text.split(","):
        base, _, step_text = item.partition("/")
        step = int(step_text) if step_text else 1
        if base in ("*", "?"):
            first, last = low, high
        else:
            a, _, b = base.partition("-")
            first = _atom(a, names)
            last = _atom(b, names) if b else (high if step_text else first)
        if not (low <= first <= high and low <= last <= high) or step < 1:
            raise ScheduleError(f"cron field {text!r} out of range {low}-{high}")
        out.update(range(first, last + 1, step))
    return out


def _atom(text: str, names: dict[str, int]) -> int:
    key = text.lower()
    if key in names:
        return names[key]
    if not text.isdigit():
        raise ScheduleError(f"bad cron value {text!r}")
    return int(text)


def runs_per_month(expr: str) -> float:
    """Average runs per month of a cron schedule, counted over the year 2023 (365 days)."""
    minute, hour, dom, month, dow, dom_set, dow_set = parse_cron(expr)
    per_day = len(minute) * len(hour)
    day = dt.date(2023, 1, 1)
    days = 0
    while day.year == 2023:
        if day.month in month and _day_matches(day, dom, dow, dom_set, dow_set):
            days += 1
        day += dt.timedelta(days=1)
    return days * per_day / 12.0


def _day_matches(day: dt.date, dom: set[int], dow: set[int], dom_set: bool, dow_set: bool) -> bool:
    weekday = (day.weekday() + 1) % 7  # cron: 0 = Sunday
    if dom_set and dow_set:  # cron's rule: either restricted field may match
        return day.day in dom or weekday in dow
    return day.day in dom and weekday in dow


def cron_window_share(start: str, end: str) -> float | None:
    """Share of the week between `start` and `end` firings (KEDA cron); None if not weekly."""
    try:
        s, e = parse_cron(start), parse_cron(end)
    except ScheduleError:
        return None
    if s[5] or e[5] or len(s[3]) != 12 or len(e[3]) != 12:
        return None  # day-of-month or month restrictions do not repeat weekly
    on = _minute_set(s)
    off = _minute_set(e)
    if not on or not off:
        return None
    state, covered = False, 0
    for lap in range(2):  # the second lap starts from the state the week ends in
        for m in range(MINUTES_PER_WEEK):
            if m in on:
                state = True
            if m in off:
                state = False
            covered += state and lap == 1
    return covered / MINUTES_PER_WEEK


def _minute_set(
    parsed: tuple[set[int], set[int], set[int], set[int], set[int], bool, bool],
) -> set[int]:
    minute, hour, _, _, dow, _, _ = parsed
    return {d * 1440 + h * 60 + m for d in dow for h in hour for m in minute}
