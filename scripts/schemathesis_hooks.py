"""Hooks for scripts/schemathesis.sh.

Times drawn at random over years 1 to 9999 almost never make a range the gateway passes on to
Calendly: most lie wholly in the past (answered with an empty collection, no call) or span more
than `limits.max_range_days` (400). Half of the generated `check-availability`, `slots` and `busy-times` queries whose
times both parse are moved, deterministically, into the coming year with a length between -10
and 110 days, so that the run also exercises single calls, split ranges and merges.
"""

from datetime import datetime, timedelta, timezone

import schemathesis


def _parse(value):
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace(" ", "+"))
    except ValueError:
        return None


@schemathesis.hook
def map_query(context, query):
    operation = getattr(context, "operation", None)
    if operation is None or not operation.path.startswith(
        ("/calendly/check-availability", "/calendly/busy-times", "/calendly/slots")
    ):
        return query
    if not isinstance(query, dict):
        return query
    start, end = _parse(query.get("start_time")), _parse(query.get("end_time"))
    if start is None or end is None or start.second % 2:
        return query
    zone = start.tzinfo or timezone.utc
    next_year = datetime.now(timezone.utc).year + 1
    moved = datetime(next_year, start.month, min(start.day, 28), start.hour, start.minute,
                     start.second, tzinfo=zone)
    length = timedelta(days=end.toordinal() % 120 - 10,
                       seconds=end.hour * 3600 + end.minute * 60 + end.second)
    query = dict(query)
    query["start_time"] = moved.isoformat()
    query["end_time"] = (moved + length).isoformat()
    return query
