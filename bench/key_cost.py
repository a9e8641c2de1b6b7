"""Measure what an ``Idempotency-Key`` costs a create, in one process: POST journal/entries
without a key and with a new key on every request, through the whole Django stack (Django's
test client: middleware, authentication with a real access token, DRF, the service, the
database; no socket, no other process competing for the CPU between the two).

For each leg (SQLite, and PostgreSQL if asked) a fresh database is migrated and one user is
seeded. Then --rounds rounds each run --batch creates without a key and as many with one,
taking turns request by request (noise from the rest of the machine hits both alike), after a
warm-up. Printed per leg: the median latency of each, and the ratio keyed/plain of the
medians of all requests and the median of the rounds' ratios (the goal: at most 1.15); then
the same for this process's CPU time (time.process_time: on SQLite the whole cost, database
included, and unmoved by other work on the machine; on PostgreSQL without the server's
share). With
--queries, the statements of one create of each kind; with --profile N, the N costliest
functions of the keyed creates (cProfile, cumulative).

    .venv/bin/python bench/key_cost.py [--rounds 15] [--batch 100] [--legs sqlite,postgres]
                                       [--pg postgresql://...] [--queries] [--profile N]

The app's production settings (DEBUG=0) are used, with the quota and the write rate limit
raised so that neither stops the benchmark. The PostgreSQL leg creates the database
`journal_idem_bench` on --pg (default the local server).
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
PG_DATABASE = "journal_idem_bench"


def leg_env(database):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SQLITE_PATH")}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DEBUG": "0",
            "SECRET_KEY": "bench-secret-key-bench-secret-key-0123456789-abcdefghij",
            "ALLOWED_HOSTS": "testserver",
            "ACCESS_TOKEN_TTL_SECONDS": "86400",
            "JOURNAL_QUOTA_FREE_BYTES": str(10**12),
            "THROTTLE_WRITE_RATE": "1000000/s",
            "LOG_LEVEL": "WARNING",
        }
    )
    env.update(database)
    return env


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
    from django.test.utils import CaptureQueriesContext

    from accounts.services import create_user
    from tokens.services import start_session

    call_command("migrate", verbosity=0)
    user = create_user(provider="bench", provider_subject="key-cost")
    client = Client(headers={"authorization": f"Bearer {start_session(user=user).access}"})
    body = json.dumps({"content": "A day at the caf\u00e9, written from the benchmark."})
    numbers = iter(range(10**9))

    def create(keyed):
        headers = {"Idempotency-Key": f"bench-{next(numbers)}"} if keyed else {}
        before, cpu_before = time.perf_counter(), time.process_time()
        response = client.post(
            "/api/v1/journal/entries", body, content_type="application/json", headers=headers
        )
        elapsed = (time.perf_counter() - before) * 1000
        cpu = (time.process_time() - cpu_before) * 1000
        if response.status_code != 201:
            raise SystemExit(f"POST (keyed: {keyed}) answered {response.status_code}")
        return elapsed, cpu

    for _ in range(args.warm_up):
        create(False)
        create(True)
    result = {"vendor": connection.vendor}
    if args.queries:
        for label, keyed in (("plain", False), ("keyed", True)):
            with CaptureQueriesContext(connection) as queries:
                create(keyed)
            result[f"queries_{label}"] = [q["sql"] for q in queries.captured_queries]
    timings = {"plain": [], "keyed": []}
    ratios, cpu_ratios = [], []
    profiler = cProfile.Profile() if args.profile else None
    for _ in range(args.rounds):
        batch = {False: [], True: []}
        for number in range(2 * args.batch):
            keyed = number % 2 == 1
            if profiler is not None and keyed:
                profiler.enable()
            batch[keyed].append(create(keyed))
            if profiler is not None and keyed:
                profiler.disable()
        timings["plain"] += batch[False]
        timings["keyed"] += batch[True]
        for kind, into in ((0, ratios), (1, cpu_ratios)):
            keyed, plain = ([t[kind] for t in batch[k]] for k in (True, False))
            into.append(statistics.median(keyed) / statistics.median(plain))
    for label, values in timings.items():
        result[label] = statistics.median(t[0] for t in values)
        result[f"{label}_cpu"] = statistics.median(t[1] for t in values)
    result["ratio"] = result["keyed"] / result["plain"]
    result["round_ratio"] = statistics.median(ratios)
    result["cpu_ratio"] = statistics.median(cpu_ratios)
    if profiler is not None:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(args.profile)
        result["profile"] = out.getvalue()
    print(json.dumps(result))


def run_leg(leg, args):
    if leg == "sqlite":
        workdir = (ROOT / "data" / "bench-key-cost").resolve()
        workdir.mkdir(parents=True, exist_ok=True)
        path = workdir / "key_cost.sqlite3"
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
    print(f"== {leg}: {args.rounds} rounds of {args.batch} creates each way", flush=True)
    argv = [PYTHON, __file__, "_measure", "--rounds", str(args.rounds), "--batch", str(args.batch)]
    argv += ["--warm-up", str(args.warm_up), "--profile", str(args.profile)]
    argv += ["--queries"] if args.queries else []
    done = subprocess.run(
        argv, cwd=ROOT, env=leg_env(database), capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"the {leg} leg failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15, help="rounds of both batches")
    parser.add_argument("--batch", type=int, default=100, help="creates of each kind a round")
    parser.add_argument("--warm-up", type=int, default=50, help="untimed creates of each kind")
    parser.add_argument("--queries", action="store_true", help="print each create's statements")
    parser.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="N",
        help="profile the keyed creates (cProfile) and print the N costliest functions",
    )
    parser.add_argument("--legs", default="sqlite,postgres")
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432")
    if len(sys.argv) > 1 and sys.argv[1] == "_measure":
        sys.argv.pop(1)
        return measure(parser.parse_args())
    args = parser.parse_args()
    results = [(leg, run_leg(leg, args)) for leg in args.legs.split(",")]
    print()
    print(
        f"machine: {os.cpu_count()} cores; {time.strftime('%Y-%m-%d')}; POST journal/entries "
        f"through Django's test client, {args.rounds} x {args.batch} creates each way, in turns"
    )
    print(
        f"{'':10}{'plain ms':>10}{'keyed ms':>10}{'ratio':>8}{'rounds':>8}"
        f"{'plain cpu':>11}{'keyed cpu':>11}{'rounds':>8}"
    )
    for leg, r in results:
        print(
            f"{leg:10}{r['plain']:>10.2f}{r['keyed']:>10.2f}"
            f"{r['ratio']:>7.2f}x{r['round_ratio']:>7.2f}x"
            f"{r['plain_cpu']:>11.2f}{r['keyed_cpu']:>11.2f}{r['cpu_ratio']:>7.2f}x"
        )
    for leg, r in results:
        for label in ("plain", "keyed"):
            if f"queries_{label}" in r:
                print(f"\n== {leg}: the statements of one {label} create")
                print("\n".join(r[f"queries_{label}"]))
        if "profile" in r:
            print(f"\n== {leg}: where the keyed creates spent their time (cumulative)")
            print(r["profile"])


if __name__ == "__main__":
    main()
