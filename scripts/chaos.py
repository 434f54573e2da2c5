#!/usr/bin/env python3
"""Drives the fault run of scripts/chaos.sh and checks every answer against what it knows.

Actors, side by side until the time is up: load (check-availability for next week and event
types, each user at random through a gateway at random), bookings at the stand-in (each
delivered by webhook to the instance that subscribed), reconnections of users to other Calendly
accounts, and faults (Redis killed and started again, Redis frozen past its deadline, the
listeners' database backends terminated, every database backend terminated, PostgreSQL
restarted), one after the other.

What must hold, and is counted as a violation otherwise:
- no slot shown that was booked (its delivery acknowledged) more than a second before the
  answer began;
- no answer begun more than a second after a reconnection was acknowledged holds the old
  account's event types or times;
- no 5xx but 503, and 503 only while PostgreSQL restarts (a pooled connection whose backend was
  terminated is retried); no other unexpected status (429 from the gateway's own budget is expected);
- Calendly's own 429 (the stand-in's) never reached.
"""
import argparse
import faulthandler
import json
import os
import random
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import date, timedelta

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bench"))
from driver import jwt  # noqa: E402

API = "https://api.calendly.com"
GRACE = float(os.environ.get("CHAOS_GRACE", "1.0"))  # the contract's second
PG_GRACE = 3.0  # how long after PostgreSQL is back a 503 may still be answered


def request(method, url, bearer=None, body=None, timeout=15):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    if bearer:
        req.add_header("Authorization", f"Bearer {bearer}")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        try:
            return error.code, json.loads(error.read() or b"null")
        except ValueError:
            return error.code, None
    except Exception as error:  # refused, reset, timed out
        return 0, str(error)


def next_week():
    today = date.today()
    monday = today - timedelta(days=today.weekday()) + timedelta(days=7)
    return (f"/calendly/check-availability?start_time={monday}T00:00:00Z"
            f"&end_time={monday + timedelta(days=7)}T00:00:00Z")


class Run:
    def __init__(self, args):
        self.args = args
        self.gateways = args.gateways.split(",")
        self.stand_in = args.stand_in
        self.lock = threading.Lock()
        self.answers = []  # dicts: kind, user, t0, t1, status, owners, starts
        self.accounts = {u: [] for u in range(args.users)}  # user -> [(t_ack, account)]
        self.bookings = []  # (account, start, t_ack)
        self.faults = []  # (kind, t_start, t_end)
        self.pg_windows = []  # (t_start, t_end)
        self.end = time.monotonic() + args.seconds
        self.check = next_week()
        self.bearers = {u: jwt(args.secret, f"chaos-user-{u}") for u in range(args.users)}
        self.reconnects = {u: 0 for u in range(args.users)}

    def running(self):
        return time.monotonic() < self.end

    def connect(self, user, gateway):
        self.reconnects[user] += 1
        pat = f"chaos-pat-{user}-{self.reconnects[user]}"
        t0 = time.monotonic()
        status, body = request("PUT", f"{gateway}/calendly/connection", self.bearers[user],
                               {"personal_access_token": pat})
        t1 = time.monotonic()
        with self.lock:
            self.answers.append({"kind": "connect", "user": user, "t0": t0, "t1": t1,
                                 "status": status, "owners": set(), "starts": []})
            if status == 200:
                account = body["user_uri"].rsplit("/", 1)[1].lower()
                self.accounts[user].append((t1, account))

    def load(self):
        rng = random.Random()
        while self.running():
            user = rng.randrange(self.args.users)
            gateway = rng.choice(self.gateways)
            kind = "check" if rng.random() < 0.7 else "event_types"
            path = self.check if kind == "check" else "/calendly/user-event-types"
            t0 = time.monotonic()
            status, body = request("GET", gateway + path, self.bearers[user])
            t1 = time.monotonic()
            owners, starts = set(), []
            if status == 200 and kind == "check":
                for time_ in body.get("collection", []):
                    owners.add(time_["scheduling_url"].split("/")[3])
                    starts.append(time_["start_time"])
            elif status == 200:
                for event_type in body:
                    owners.add(event_type["uri"].rsplit("/", 1)[1].rsplit("-", 1)[0].lower())
            with self.lock:
                self.answers.append({"kind": kind, "user": user, "t0": t0, "t1": t1,
                                     "status": status, "owners": owners, "starts": starts})

    def current(self, user, before):
        """The account the user was connected to, acknowledged before `before`."""
        acked = [account for t_ack, account in self.accounts[user] if t_ack < before]
        return acked[-1] if acked else None

    def book(self):
        rng = random.Random()
        booked = set()
        while self.running():
            time.sleep(0.5)
            user = rng.randrange(self.args.users)
            with self.lock:
                account = self.current(user, time.monotonic())
                offered = [a for a in self.answers[-400:] if a["user"] == user
                           and a["kind"] == "check" and a["owners"] == {account}]
            if not account or not offered:
                continue
            starts = [s for s in offered[-1]["starts"] if (account, s) not in booked]
            if not starts:
                continue
            start = rng.choice(starts)
            event_type = f"{API}/event_types/{account.upper()}-0"
            status, body = request("POST", f"{self.stand_in}/admin/book", None,
                                   {"event_type": event_type, "start_time": start})
            t_ack = time.monotonic()
            booked.add((account, start))
            if status == 200 and any(d.get("status") == 200 for d in body.get("deliveries", [])):
                with self.lock:
                    self.bookings.append((account, start, t_ack))

    def reconnect(self):
        rng = random.Random()
        while self.running():
            time.sleep(3)
            self.connect(rng.randrange(self.args.users), rng.choice(self.gateways))

    def shell(self, command):
        subprocess.run(command, shell=True, check=False, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=60)

    def fault(self, kind, action):
        t0 = time.monotonic()
        action()
        t1 = time.monotonic()
        with self.lock:
            self.faults.append((kind, t0, t1))
        return t0, t1

    def redis_pid(self):
        with open(os.environ["REDIS_PID_FILE"]) as pid:
            return int(pid.read().strip())

    def faults_in_turn(self):
        def redis_restart():
            os.kill(self.redis_pid(), 9)
            time.sleep(1.0)
            self.shell(os.environ["REDIS_START"])

        def redis_freeze():
            pid = self.redis_pid()
            os.kill(pid, 19)  # SIGSTOP: past the gateways' 100 ms deadline
            time.sleep(1.5)
            os.kill(pid, 18)  # SIGCONT

        def listeners():
            self.shell(os.environ["TERMINATE_LISTENERS"])

        def backends():
            self.shell(os.environ["TERMINATE_BACKENDS"])

        def pg_restart():
            t0 = time.monotonic()
            self.shell(os.environ["PG_RESTART"])
            with self.lock:
                self.pg_windows.append((t0, time.monotonic()))

        turns = [("Redis killed and started", redis_restart), ("Redis frozen 1.5 s", redis_freeze),
                 ("listeners' backends terminated", listeners),
                 ("every database backend terminated", backends), ("PostgreSQL restarted", pg_restart)]
        at = 0
        time.sleep(3)
        while self.running() and time.monotonic() < self.end - 3:
            kind, action = turns[at % len(turns)]
            self.fault(kind, action)
            at += 1
            time.sleep(4)

    def violations(self):
        found = {"booked slot shown": 0, "old account shown": 0, "unexpected status": 0,
                 "503 outside a PostgreSQL restart": 0, "Calendly's own 429": 0}
        examples = []
        by_account = {}
        for account, start, t_ack in self.bookings:
            by_account.setdefault(account, []).append((start, t_ack))
        for answer in self.answers:
            status, t0 = answer["status"], answer["t0"]
            if status in (200, 429):
                pass
            elif status == 503:
                if not any(a - 0.5 <= t0 <= b + PG_GRACE for a, b in self.pg_windows):
                    found["503 outside a PostgreSQL restart"] += 1
                    examples.append(("503", answer))
                continue
            else:
                found["unexpected status"] += 1
                examples.append(("status", answer))
                continue
            if status != 200 or answer["kind"] == "connect":
                continue
            expected = self.current(answer["user"], t0 - GRACE)
            older = {account for _, account in self.accounts[answer["user"]]} - {expected}
            recent = {account for t_ack, account in self.accounts[answer["user"]] if t_ack >= t0 - GRACE}
            if answer["owners"] & (older - recent):
                found["old account shown"] += 1
                examples.append(("old account", answer))
            for owner in answer["owners"]:
                for start, t_ack in by_account.get(owner, []):
                    if t_ack < t0 - GRACE and start in answer["starts"]:
                        found["booked slot shown"] += 1
                        examples.append(("booked", answer, start, t0 - t_ack))
        _, stats = request("GET", f"{self.stand_in}/stats")
        found["Calendly's own 429"] = int(stats.get("rate_limited", 0)) if isinstance(stats, dict) else 1
        return found, examples, stats


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=300)
    parser.add_argument("--users", type=int, default=12)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--stand-in", dest="stand_in", required=True)
    parser.add_argument("--gateways", required=True)
    args = parser.parse_args()
    # It stops by itself: a run still going a minute past its time prints where it is stuck and
    # ends.
    faulthandler.dump_traceback_later(args.seconds + 60, exit=True)
    run = Run(args)
    for user in range(args.users):
        run.connect(user, run.gateways[user % len(run.gateways)])
    threads = [threading.Thread(target=run.load) for _ in range(6)]
    threads += [threading.Thread(target=run.book), threading.Thread(target=run.reconnect),
                threading.Thread(target=run.faults_in_turn)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    found, examples, stats = run.violations()
    statuses = {}
    for answer in run.answers:
        statuses[answer["status"]] = statuses.get(answer["status"], 0) + 1
    faults = {}
    for kind, _, _ in run.faults:
        faults[kind] = faults.get(kind, 0) + 1
    print(f"\nFault run: {args.seconds} s, 3 instances, {args.users} users\n")
    print("| faults | count |\n| --- | --- |")
    for kind, count in faults.items():
        print(f"| {kind} | {count} |")
    print("\n| requests | count |\n| --- | --- |")
    print(f"| answers | {len(run.answers)} |")
    for status, count in sorted(statuses.items()):
        print(f"| status {status} | {count} |")
    print(f"| bookings delivered | {len(run.bookings)} |")
    print(f"| reconnections | {sum(len(v) for v in run.accounts.values()) - args.users} |")
    print(f"| Calendly calls | {stats.get('total', '?') if isinstance(stats, dict) else '?'} |")
    print("\n| violations | count |\n| --- | --- |")
    for kind, count in found.items():
        print(f"| {kind} | {count} |")
    start = run.end - args.seconds
    for example in examples[:10]:
        kind, answer = example[0], example[1]
        at = answer["t0"]
        near = [f"{fault} at {t0 - start:.1f}-{t1 - start:.1f} s" for fault, t0, t1 in run.faults
                if t0 - 5 <= at <= t1 + 5]
        extra = f", {example[3]:.2f} s after the delivery" if kind == "booked" else ""
        print(f"{kind}: {answer['kind']} of user {answer['user']} at {at - start:.2f} s, status "
              f"{answer['status']}{extra}; faults near: {near or 'none'}", file=sys.stderr)
    sys.exit(1 if any(found.values()) else 0)


if __name__ == "__main__":
    main()
