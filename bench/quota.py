"""Measure what a write costs as the user's journal grows: POST journal/entries for a user
holding a few entries and for one holding many.

For each leg (SQLite, and PostgreSQL if asked) a fresh database is migrated and seeded with two
users: one with --small entries, one with --large (bulk inserts, their usage counters set from
the entries). Then both users POST an entry in turn, --requests times each after a warm-up,
through the whole Django stack in one process (Django's test client: middleware,
authentication with a real access token, DRF, the service, the database; no socket), and the
median, p90 and p99 latency of each are printed with the ratio large/small of the medians.

    .venv/bin/python bench/quota.py [--small 10] [--large 100000] [--requests 300]
                                    [--legs sqlite] [--pg postgresql://...] [--profile N]

The app's production settings (DEBUG=0) are used, with the quota and the write rate limit
raised so that neither stops the benchmark. The PostgreSQL leg creates the database
`bench_quota` on --pg (default the local server).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
PG_DATABASE = "bench_quota"
WORDS = ["today", "caf\u00e9", "\u65e5\u8a18", "ok", "walked", "rain"]


def leg_env(database):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SQLITE_PATH")}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DEBUG": "0",
            "SECRET_KEY": "bench-secret-key-bench-secret-key-0123456789-abcdefghij",
            "ALLOWED_HOSTS": "testserver",
            "JOURNAL_QUOTA_FREE_BYTES": str(10**12),
            # Every request is a write of one of two users: no rate limit may answer 429.
            "THROTTLE_WRITE_RATE": "1000000/s",
            "LOG_LEVEL": "WARNING",
        }
    )
    env.update(database)
    return env


def seed(*, small: int, large: int) -> dict:
    """Two users with their entries; returns an access token for each."""
    from random import Random

    from accounts.services import create_user
    from journal.models import JournalEntry
    from journal.services import recount_journal_usage
    from tokens.services import start_session

    rng = Random(1)
    tokens = {}
    for label, count in (("small", small), ("large", large)):
        user = create_user(provider="bench", provider_subject=f"quota-{label}")

        def entries(user=user, count=count):
            for _ in range(count):
                content = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 12)))
                yield JournalEntry(user=user, content=content, size_bytes=len(content.encode()))

        JournalEntry.objects.bulk_create(entries(), batch_size=5000)
        recount_journal_usage(user=user)
        tokens[label] = start_session(user=user).access
    return tokens


def percentile(values, pct):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def measure(args):
    """Runs inside the leg's environment (a subprocess): migrate, seed, time."""
    sys.path[0] = str(ROOT)  # run as a script, bench/ would be first on the path
    import cProfile  # here: bench/copy.py would shadow the `copy` module these import
    import io
    import pstats

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    call_command("migrate", verbosity=0)
    started = time.monotonic()
    tokens = seed(small=args.small, large=args.large)
    seeded = time.monotonic() - started
    clients = {
        label: Client(headers={"authorization": f"Bearer {token}"})
        for label, token in tokens.items()
    }
    body = json.dumps({"content": "A day at the caf\u00e9, written from the benchmark."})
    timings = {label: [] for label in clients}
    profiler = None
    for round_number in range(args.warm_up + args.requests):
        if args.profile and round_number == args.warm_up:
            profiler = cProfile.Profile()
            profiler.enable()
        for label, client in clients.items():  # in turn, so noise hits both alike
            before = time.perf_counter()
            response = client.post("/api/v1/journal/entries", body, content_type="application/json")
            elapsed = time.perf_counter() - before
            if response.status_code != 201:
                raise SystemExit(f"POST as {label} answered {response.status_code}")
            if round_number >= args.warm_up:
                timings[label].append(elapsed * 1000)
    result = {"vendor": connection.vendor, "seed_seconds": seeded}
    if profiler is not None:
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(args.profile)
        result["profile"] = out.getvalue()
    for label, values in timings.items():
        result[label] = {
            "p50": statistics.median(values),
            "p90": percentile(values, 90),
            "p99": percentile(values, 99),
        }
    print(json.dumps(result))


def run_leg(leg, args):
    if leg == "sqlite":
        workdir = (ROOT / "data" / "bench-quota").resolve()
        workdir.mkdir(parents=True, exist_ok=True)
        path = workdir / "quota.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        database = {"SQLITE_PATH": str(path)}
    elif leg == "postgres":
        for sql in (
            f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)',
            f'CREATE DATABASE "{PG_DATABASE}"',
        ):
            subprocess.run(
                ["psql", "-q", "-v", "ON_ERROR_STOP=1", f"{args.pg}/postgres", "-c", sql],
                check=True,
                capture_output=True,
            )
        database = {"DATABASE_URL": f"{args.pg}/{PG_DATABASE}"}
    else:
        raise SystemExit(f"unknown leg {leg!r}: sqlite or postgres")
    print(f"== {leg}: seeding {args.small} and {args.large} entries, then timing", flush=True)
    done = subprocess.run(
        [
            PYTHON,
            __file__,
            "_measure",
            "--small",
            str(args.small),
            "--large",
            str(args.large),
            "--requests",
            str(args.requests),
            "--warm-up",
            str(args.warm_up),
            "--profile",
            str(args.profile),
        ],
        cwd=ROOT,
        env=leg_env(database),
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise SystemExit(f"the {leg} leg failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=10, help="entries of the first user")
    parser.add_argument("--large", type=int, default=100_000, help="entries of the second user")
    parser.add_argument("--requests", type=int, default=300, help="timed POSTs of each user")
    parser.add_argument("--warm-up", type=int, default=20, help="untimed POSTs of each user")
    parser.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="N",
        help="profile the timed requests (cProfile) and print the N costliest functions",
    )
    parser.add_argument("--legs", default="sqlite")
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432")
    if len(sys.argv) > 1 and sys.argv[1] == "_measure":
        sys.argv.pop(1)
        return measure(parser.parse_args())
    args = parser.parse_args()
    results = [(leg, run_leg(leg, args)) for leg in args.legs.split(",")]
    print()
    print(
        f"machine: {os.cpu_count()} cores; {time.strftime('%Y-%m-%d')}; POST journal/entries "
        f"through Django's test client, {args.requests} timed requests per user, in turn"
    )
    print(f"{'':10}{'entries':>9}{'p50 ms':>9}{'p90 ms':>9}{'p99 ms':>9}")
    for leg, result in results:
        for label, count in (("small", args.small), ("large", args.large)):
            f = result[label]
            print(f"{leg:10}{count:>9,}{f['p50']:>9.2f}{f['p90']:>9.2f}{f['p99']:>9.2f}")
        ratio = result["large"]["p50"] / result["small"]["p50"]
        print(f"{leg:10}{'ratio of the medians, large/small:':>36} {ratio:.2f}x")
    for leg, result in results:
        if "profile" in result:
            print(f"\n== {leg}: where the timed requests spent their time (cumulative)")
            print(result["profile"])


if __name__ == "__main__":
    main()
