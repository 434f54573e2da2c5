#!/usr/bin/env python3
"""Bookings timed through the gateway and straight at the Calendly stand-in.

usage: booking.py GATEWAY STAND_IN OUT_DIR BOOKINGS CONCURRENCY

Reads the users bench/driver.py's `setup` wrote (gateway.tsv, stand_in.tsv): the even ones
book through the gateway (POST /calendly/bookings, an Idempotency-Key each), the odd ones
straight at the stand-in (POST /invitees), each a free time of its first event type (a required
question, Zoom), CONCURRENCY at once, BOOKINGS on each side. Prints one JSON line: the count,
p50, p99 and mean in milliseconds of each side, and the answers that were not 201.
"""

import concurrent.futures
import json
import statistics
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

from driver import call

QUESTION = [{"question": "What should we talk about?", "answer": "Benchmarks", "position": 0}]


def times_of(gateway: str, access: str, check: str) -> list:
    status, body = call("GET", f"{gateway}{check}", access)
    assert status == 200, (status, body)
    return [t["start_time"] for t in body["collection"]]


def booking(event_type: str, start: str, n: int) -> dict:
    return {
        "event_type": event_type,
        "start_time": start,
        "invitee": {"name": f"Bench Invitee {n}", "email": f"invitee{n}@example.com", "timezone": "Europe/Berlin"},
        "location": {"kind": "zoom_conference"},
        "questions_and_answers": QUESTION,
    }


def post(url: str, token: str, body: dict, headers=None) -> tuple:
    """POSTs `body`: the status (a refusal too) and the answer."""
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST")
    request.add_header("Authorization", f"Bearer {token}")
    request.add_header("Content-Type", "application/json")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.read()


def timed(request) -> tuple:
    started = time.perf_counter()
    status, _ = request()
    return status, (time.perf_counter() - started) * 1000


def summary(results: list) -> dict:
    took = sorted(ms for status, ms in results if status == 201)
    if not took:
        return {"bookings": 0, "errors": len(results)}
    return {
        "bookings": len(took),
        "p50_ms": round(took[len(took) // 2], 2),
        "p99_ms": round(took[min(len(took) - 1, int(len(took) * 0.99))], 2),
        "mean_ms": round(statistics.mean(took), 2),
        "errors": sorted({status for status, _ in results if status != 201}),
    }


def main() -> None:
    gateway, stand_in, out_dir, bookings, concurrency = sys.argv[1:6]
    bookings, concurrency = int(bookings), int(concurrency)
    with open(f"{out_dir}/gateway.tsv") as g, open(f"{out_dir}/stand_in.tsv") as s:
        users = [
            (g_line.split("\t")[0], g_line.split("\t")[1].strip(), s_line.split("\t")[0], s_line.split("\t")[1].strip())
            for g_line, s_line in zip(g, s)
        ]
    through, direct = [], []
    for i, (access, check, pat, available) in enumerate(users):
        event_type = urllib.parse.parse_qs(urllib.parse.urlsplit(available).query)["event_type"][0]
        times = times_of(gateway, access, check)
        side = through if i % 2 == 0 else direct
        side.extend((access, pat, event_type, start) for start in times)
    assert len(through) >= bookings and len(direct) >= bookings, "too few free times: more users"

    def via_gateway(job, n):
        access, _, event_type, start = job
        return timed(
            lambda: post(
                f"{gateway}/calendly/bookings",
                access,
                booking(event_type, start, n),
                {"Idempotency-Key": str(uuid.uuid4())},
            )
        )

    def straight(job, n):
        _, pat, event_type, start = job
        return timed(lambda: post(f"{stand_in}/invitees", pat, booking(event_type, start, n)))

    results = {}
    for name, jobs, run in [("gateway", through, via_gateway), ("direct", direct, straight)]:
        with concurrent.futures.ThreadPoolExecutor(max_workers=concurrency) as pool:
            answers = list(pool.map(run, jobs[:bookings], range(bookings)))
        results[name] = summary(answers)
    print(json.dumps({"concurrency": concurrency, **results}))


if __name__ == "__main__":
    main()
