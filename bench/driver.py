#!/usr/bin/env python3
"""The benchmark's helper: connects users through the gateway, writes the request files wrk
replays, reads the process figures from /proc, and prints the table. Standard library only.

    driver.py setup GATEWAY STAND_IN JWT_SECRET USERS OUT_DIR [pat|oauth]
    driver.py proc PID                    # {"cpu_ticks": …, "peak_rss_kb": …}
    driver.py calls STAND_IN [reset]      # Calendly calls the stand-in received (then zeroed)
    driver.py dbreads GATEWAY             # connections the gateway read from its database so far
    driver.py table RESULTS.jsonl         # the table of every run
"""

import base64
import concurrent.futures
import datetime
import hashlib
import hmac
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request


def jwt(secret: str, sub: str, ttl: int = 86400) -> str:
    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    claims = b64(json.dumps({"sub": sub, "exp": int(time.time()) + ttl}).encode())
    signature = hmac.new(secret.encode(), f"{header}.{claims}".encode(), hashlib.sha256).digest()
    return f"{header}.{claims}.{b64(signature)}"


def call(method: str, url: str, token: str, body=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, json.loads(response.read() or b"null")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def connect_with_oauth(gateway: str, access: str) -> None:
    """The OAuth flow as a browser and the web application's page run it: start, the stand-in's
    approval (back to the application's page: the benchmark's redirect URI), then the page
    completing it with the user's bearer token."""
    _, started = call("POST", f"{gateway}/calendly/oauth/start", access)
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        opener.open(started["authorize_url"], timeout=30)
        raise AssertionError("the stand-in did not redirect")
    except urllib.error.HTTPError as redirect:
        assert redirect.code == 302, redirect.code
        back = urllib.parse.parse_qs(urllib.parse.urlsplit(redirect.headers["Location"]).query)
    answer = {"code": back["code"][0], "state": back["state"][0]}
    _, body = call("POST", f"{gateway}/calendly/oauth/complete", access, answer)
    assert body["method"] == "oauth", body


def setup(gateway: str, stand_in: str, secret: str, users: int, out_dir: str, connect: str = "pat") -> None:
    """Connects USERS users (with a personal access token, or through OAuth), warms the gateway up with one check each, and writes
    gateway.tsv (access token, check-availability path), stand_in.tsv (Calendly token,
    event_type_available_times path) for the same 7-day range, and event_types.tsv (access
    token, user-event-types path)."""
    # Midnight UTC at least a day ahead, so that the start stays in the future for the whole
    # run: the stand-in, like Calendly, refuses a start already past.
    start = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=2)).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    end = start + datetime.timedelta(days=7)
    start_s, end_s = start.strftime("%Y-%m-%dT%H:%M:%SZ"), end.strftime("%Y-%m-%dT%H:%M:%SZ")
    check = f"/calendly/check-availability?start_time={start_s}&end_time={end_s}"

    def one(i: int):
        access = jwt(secret, f"bench-user-{i}")
        pat = f"bench-pat-{i}"
        if connect == "oauth":
            connect_with_oauth(gateway, access)
        else:
            status, _ = call("PUT", f"{gateway}/calendly/connection", access, {"personal_access_token": pat})
            assert status == 200, status
        # The first check fills the gateway's event types cache, as steady state has it.
        status, body = call("GET", f"{gateway}{check}", access)
        assert status == 200 and body["collection"], (status, body)
        # The direct requests act for the personal access token's own user (an OAuth
        # connection's tokens stay in the gateway).
        user_uri = call("GET", f"{stand_in}/users/me", pat)[1]["resource"]["uri"]
        _, page = call("GET", f"{stand_in}/event_types?user={urllib.parse.quote(user_uri)}&count=1", pat)
        event_type = page["collection"][0]["uri"]
        direct = "/event_type_available_times?" + urllib.parse.urlencode(
            {"event_type": event_type, "start_time": start_s, "end_time": end_s}
        )
        slots = check.replace("/calendly/check-availability", "/calendly/slots") + "&timezone=Europe/Berlin"
        return (
            f"{access}\t{check}",
            f"{pat}\t{direct}",
            f"{access}\t/calendly/user-event-types",
            f"{access}\t{slots}",
        )

    started = time.time()
    with concurrent.futures.ThreadPoolExecutor(max_workers=32) as pool:
        lines = list(pool.map(one, range(users)))
    for index, name in enumerate(["gateway.tsv", "stand_in.tsv", "event_types.tsv", "slots.tsv"]):
        with open(os.path.join(out_dir, name), "w") as out:
            out.write("".join(line[index] + "\n" for line in lines))
    print(f"connected and warmed up {users} users in {time.time() - started:.1f}s", file=sys.stderr)


def proc(pid: str) -> None:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    # utime and stime are fields 14 and 15 of stat; the split starts at field 3.
    ticks = int(fields[11]) + int(fields[12])
    peak = 0
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                peak = int(line.split()[1])
    print(json.dumps({"cpu_ticks": ticks, "peak_rss_kb": peak, "ticks_per_s": os.sysconf("SC_CLK_TCK")}))


def calls(stand_in: str, reset: bool) -> None:
    with urllib.request.urlopen(f"{stand_in}/stats", timeout=10) as response:
        print(json.loads(response.read())["total"])
    if reset:
        urllib.request.urlopen(urllib.request.Request(f"{stand_in}/stats", method="DELETE"), timeout=10)


def dbreads(gateway: str) -> None:
    """The gateway's own count of connections read from the database (the misses of its
    connection cache: `cache_lookups_total{kind="connections",result="miss"}`; 0 when the
    gateway reads every connection without counting, as on SQLite)."""
    series = 'cache_lookups_total{kind="connections",result="miss"} '
    with urllib.request.urlopen(f"{gateway}/metrics", timeout=10) as response:
        text = response.read().decode()
    print(next((int(float(line[len(series):])) for line in text.splitlines() if line.startswith(series)), 0))


def table(results_path: str) -> None:
    rows = [json.loads(line) for line in open(results_path) if line.strip()]
    header = (
        "| users | connected with | availability TTL | order | stand-in latency | gateway req/s | gateway p50 | gateway p99 | direct req/s | direct p50 "
        "| direct p99 | req/s ratio | p99 added | Calendly calls / check | Calendly calls / event-types request "
        "| database reads / check | gateway CPU / check | gateway CPU / `/healthz` | check ÷ `/healthz` | floor CPU / check | floor ÷ `/healthz` "
        "| peak RSS | errors |"
    )
    print(header)
    print("|" + "|".join(["---"] * (header.count("|") - 1)) + "|")
    for r in rows:
        g, d = r["gateway"], r["direct"]
        g_rps = g["requests"] / (g["duration_us"] / 1e6)
        d_rps = d["requests"] / (d["duration_us"] / 1e6)
        cpu_us = r["cpu_ticks"] / r["ticks_per_s"] / g["requests"] * 1e6
        calls = r["calendly_calls"] / g["requests"]
        e = r["event_types"]
        event_type_calls = r["event_types_calendly_calls"] / e["requests"]
        errors = sum(x["socket_errors"] + x["non_2xx"] for x in (g, d, e))
        db_reads = r.get("database_reads", 0) / g["requests"]
        h = r.get("healthz")
        healthz_us = r["healthz_cpu_ticks"] / r["ticks_per_s"] / h["requests"] * 1e6 if h else 0
        ratio = f"{cpu_us / healthz_us:.2f}" if healthz_us else "–"
        f = r.get("floor")
        floor_us = r["floor_cpu_ticks"] / r["ticks_per_s"] / f["requests"] * 1e6 if f else 0
        floor_ratio = f"{floor_us / healthz_us:.2f}" if floor_us and healthz_us else "–"
        print(
            f"| {r['users']} | {r.get('connect', 'pat')} | {r.get('availability_ttl', 0)} s | {r.get('order', 'turn')} | {r['latency_ms']} ms | {g_rps:,.0f} | {g['p50_us'] / 1000:.2f} ms | "
            f"{g['p99_us'] / 1000:.2f} ms | {d_rps:,.0f} | {d['p50_us'] / 1000:.2f} ms | {d['p99_us'] / 1000:.2f} ms | "
            f"{g_rps / d_rps:.2f} | {(g['p99_us'] - d['p99_us']) / 1000:+.2f} ms | {calls:.2f} | {event_type_calls:.2f} | {db_reads:.3f} | {cpu_us:.0f} µs | {healthz_us:.0f} µs | {ratio} | "
            f"{f'{floor_us:.0f} µs' if floor_us else '–'} | {floor_ratio} | "
            f"{r['peak_rss_kb'] / 1024:.1f} MB | {errors} |"
        )


def slots_table(results_path: str) -> None:
    rows = [json.loads(line) for line in open(results_path) if line.strip() and "slots" in line]
    if not rows:
        return
    print()
    print("| users | connected with | stand-in latency | slots req/s | p50 | p99 | Calendly calls / slots request | gateway CPU / slots request | errors |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        s = r["slots"]
        rps = s["requests"] / (s["duration_us"] / 1e6)
        cpu_us = r["slots_cpu_ticks"] / r["ticks_per_s"] / s["requests"] * 1e6
        calls = r["slots_calendly_calls"] / s["requests"]
        print(
            f"| {r['users']} | {r.get('connect', 'pat')} | {r['latency_ms']} ms | {rps:,.0f} | {s['p50_us'] / 1000:.2f} ms | "
            f"{s['p99_us'] / 1000:.2f} ms | {calls:.2f} | {cpu_us:.0f} µs | {s['socket_errors'] + s['non_2xx']} |"
        )


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    if command == "setup":
        setup(args[0], args[1], args[2], int(args[3]), args[4], *args[5:])
    elif command == "proc":
        proc(args[0])
    elif command == "dbreads":
        dbreads(*args)
    elif command == "calls":
        calls(args[0], args[1:] == ["reset"])
    elif command == "table":
        table(args[0])
        slots_table(args[0])
    else:
        sys.exit(f"unknown command {command}")
