"""Measure the API under gunicorn against a textbook DRF peer and a bare Django view (the ceiling).

Seeds a database (SQLite, then PostgreSQL) with users, entries, sessions and tokens, starts
the app under gunicorn with its production settings (DEBUG=0, sync workers) plus the
benchmark's views (DJANGO_SETTINGS_MODULE=bench.settings, URLs in bench/urls.py) on a free
loopback port, drives it with wrk from a separate process and prints requests/s, p50, p99 and
errors (non-2xx answers and socket errors) for four endpoints: list 20 entries, create an
entry (all as one user, and spread over --users users in turn, no two writes of one user at
once: what a journaling app lives), refresh a token and GET me. Each is measured three ways:

- ours: the app's endpoint under /api/v1/;
- peer: the same endpoint as DRF's and simplejwt's documentation write it (bench/peer_views.py
  at /bench/peer/: generic views, ModelSerializers, LimitOffsetPagination, JWTAuthentication,
  simplejwt's TokenRefreshView with rotation and the blacklist), no quota, no rate limit, no
  reuse detection;
- bare: the app's SQL and JSON in a plain Django view (bench/bare_views.py at /bench/bare/),
  the ceiling of this stack.

The three take turns for --rounds runs each and the median run of each is printed, with the
ratios ours/peer and ours/bare. On SQLite it then prints the whole install's write ceiling:
--ceiling-workers workers (5) written to by twice as many connections, writes spread over
every user, ours against bare (one write lock per database file: the length of a write
transaction bounds it). And what an `Idempotency-Key` costs ours: creates without a key and
with a new one on every request, in turns, and the ratio of their requests/s (the goal: at
most 1.15).

    .venv/bin/python bench/api.py [--seconds 10] [--rounds 3] [--connections 4]
                                  [--legs sqlite,postgres] [--pg postgresql://...]
                                  [--pg-database bench_api] [--key-cost-only]

Needs the bench extra (`pip install -e '.[bench]'`, which `make install` does:
djangorestframework-simplejwt), wrk (apt-get install wrk) and, for the PostgreSQL leg, a
server it may create the database `bench_api` (--pg-database) on (--pg, default the local
one). --key-cost-only measures only what a key costs a create.
"""

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, bench/ is first on the path: the project goes next, for bench.machine.
sys.path.insert(1, str(ROOT))
from bench.machine import cpu_model  # noqa: E402

PYTHON = sys.executable
GUNICORN = str(Path(PYTHON).parent / "gunicorn")
PG_DATABASE = "bench_api"

# args: the token file, and how many of its tokens earlier rounds have spent.
REFRESH_LUA = """
local tokens, next_index = {}, 1
function init(args)
  for line in io.lines(args[1]) do tokens[#tokens + 1] = line end
  next_index = tonumber(args[2]) + 1
end
function request()
  local token = tokens[next_index] or "pool-exhausted"
  next_index = next_index + 1
  return wrk.format(nil, nil, nil, '{"refresh": "' .. token .. '"}')
end
"""

# args: the token file. Each request writes as the next user of the file, in turn: with fewer
# connections than users, no two writes of one user are in flight together.
MANY_WRITERS_LUA = """
local tokens, count = {}, 0
function init(args)
  for line in io.lines(args[1]) do tokens[#tokens + 1] = line end
end
function request()
  count = count + 1
  local token = tokens[(count % #tokens) + 1]
  return wrk.format("POST", nil, {["Authorization"] = "Bearer " .. token,
                                  ["Content-Type"] = "application/json"}, BODY)
end
"""

# args: a prefix that makes this run's keys its own. Every request carries a new key (the
# peer and the bare view ignore the header).
KEYED_CREATE_LUA = """
local next_thread = 1
function setup(thread)
  thread:set("thread_id", next_thread)
  next_thread = next_thread + 1
end
local prefix, n = "", 0
function init(args) prefix = args[1] .. "-" .. tostring(thread_id) .. "-" end
function request()
  n = n + 1
  local headers = {}
  for name, value in pairs(wrk.headers) do headers[name] = value end
  headers["Idempotency-Key"] = prefix .. n
  return wrk.format(nil, nil, headers, nil)
end
"""

# Each endpoint three ways, in the order they take turns: the app, the textbook, the ceiling.
VARIANTS = ("ours", "peer", "bare")
PREFIXES = {"ours": "/api/v1/", "peer": "/bench/peer/", "bare": "/bench/bare/"}
SCENARIOS = [
    # kind, label, path under each prefix
    ("list", "list 20 entries", "journal/entries?limit=20"),
    ("create", "create an entry", "journal/entries"),
    # What a journaling app lives: writes of many users, no two at once of one user.
    ("create_many", "create, 1000 users", "journal/entries"),
    ("refresh", "refresh a token", "auth/refresh"),
    ("me", "GET me", "me"),
]


def log(message):
    print(message, flush=True)


def app_env(database, **extra):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SQLITE_PATH")}
    env.update(
        {
            # The app's settings plus the peer's and the benchmark's URLs.
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "DEBUG": "0",
            "SECRET_KEY": "bench-secret-key-bench-secret-key-0123456789-abcdefghij",
            "ACCESS_TOKEN_TTL_SECONDS": "86400",
            # Every create lands on one user: its quota must not be what stops it.
            "JOURNAL_QUOTA_FREE_BYTES": str(10**12),
            "THROTTLE_LOGIN_RATE": "1000000/s",
            "THROTTLE_REFRESH_RATE": "1000000/s",
            "THROTTLE_WEBHOOK_RATE": "1000000/s",
            "THROTTLE_WRITE_RATE": "1000000/s",
            "LOG_LEVEL": "WARNING",
        }
    )
    env.update(database)
    env.update({k: str(v) for k, v in extra.items()})
    return env


def run(args, env, **kwargs):
    done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, **kwargs)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(map(str, args))} failed:\n{done.stderr[-3000:]}")
    return done.stdout


def seed(args):
    """Runs inside the app's environment (a subprocess): users, entries, sessions, tokens."""
    # Run as a script, bench/ is first on the path, and bench/copy.py would shadow `copy`.
    sys.path[0] = str(ROOT)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import django

    django.setup()
    from datetime import timedelta
    from random import Random

    from django.conf import settings
    from django.db import transaction
    from django.utils import timezone
    from rest_framework_simplejwt.tokens import RefreshToken as PeerRefreshToken

    from accounts.models import User
    from journal.models import JournalEntry
    from journal.services import recount_journal_usage
    from tokens.models import RefreshToken, Session
    from tokens.selectors import hash_refresh_token
    from tokens.services import start_session

    rng = Random(1)
    now = timezone.now()
    users = User.objects.bulk_create(
        User(
            provider="bench",
            provider_subject=f"user-{i}",
            email=f"u{i}@example.com",
            display_name=f"User {i}",
        )
        for i in range(args.users)
    )
    JournalEntry.objects.bulk_create(
        (
            JournalEntry(
                user=users[i % len(users)],
                content=" ".join(
                    rng.choice(["today", "caf\u00e9", "\u65e5\u8a18", "ok"])
                    for _ in range(rng.randint(5, 60))
                ),
                size_bytes=0,
                created_at=now - timedelta(minutes=i),
                updated_at=now - timedelta(minutes=i),
            )
            for i in range(args.users * args.entries_per_user)
        ),
        batch_size=2000,
    )
    # size_bytes as the API computes it.
    for entry in JournalEntry.objects.filter(size_bytes=0).iterator():
        JournalEntry.objects.filter(pk=entry.pk).update(size_bytes=len(entry.content.encode()))
    # The entries were written past the services: their owners' usage rows from their sums.
    for user in users:
        recount_journal_usage(user=user)
    # All three read as users[0]. Each create run writes as its own user, so that no run
    # starts with the entries another one added.
    out = {
        "reader": {
            "ours": start_session(user=users[0]).access,
            "peer": str(PeerRefreshToken.for_user(users[0]).access_token),
            "bare": start_session(user=users[0]).access,
        },
        "writer": {
            "ours": start_session(user=users[1]).access,
            "peer": str(PeerRefreshToken.for_user(users[3]).access_token),
            "bare": start_session(user=users[2]).access,
        },
        "pools": {},
        "writers": {},
    }
    # A token of every user for each variant, for the writes spread over many users.
    for variant in VARIANTS:
        if variant == "peer":
            lines = [str(PeerRefreshToken.for_user(user).access_token) for user in users]
        else:
            lines = [start_session(user=user).access for user in users]
        path = Path(args.workdir) / f"writers-{variant}.txt"
        path.write_text("\n".join(lines) + "\n")
        out["writers"][variant] = str(path)
    expires = now + timedelta(days=settings.REFRESH_TOKEN_TTL_DAYS)
    for pool, variant in enumerate(("ours", "bare")):  # the app's refresh tokens
        sessions = Session.objects.bulk_create(
            Session(
                user=users[(pool * args.refresh_pool + i) % len(users)],
                created_at=now,
                last_used_at=now,
                expires_at=expires,
            )
            for i in range(args.refresh_pool)
        )
        raws = [f"bench-{pool}-{i}-{rng.getrandbits(128):032x}" for i in range(len(sessions))]
        RefreshToken.objects.bulk_create(
            (
                RefreshToken(session=s, token_hash=hash_refresh_token(raw), created_at=now)
                for s, raw in zip(sessions, raws, strict=True)
            ),
            batch_size=2000,
        )
        path = Path(args.workdir) / f"refresh-{variant}.txt"
        path.write_text("\n".join(raws) + "\n")
        out["pools"][variant] = str(path)
    # The peer's: simplejwt refresh tokens, each one an OutstandingToken as a login makes.
    with transaction.atomic():
        raws = [
            str(PeerRefreshToken.for_user(users[(2 * args.refresh_pool + i) % len(users)]))
            for i in range(args.refresh_pool)
        ]
    path = Path(args.workdir) / "refresh-peer.txt"
    path.write_text("\n".join(raws) + "\n")
    out["pools"]["peer"] = str(path)
    print(json.dumps(out))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(env, workdir, label, **extra):
    port = free_port()
    env = {**env, "GUNICORN_BIND": f"127.0.0.1:{port}", **{k: str(v) for k, v in extra.items()}}
    out = open(workdir / f"gunicorn-{label}.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        [GUNICORN, "-c", "config/gunicorn.conf.py", "config.wsgi"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=out,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn exited; see {out.name}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"GET /healthz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
                if b" 200 " in s.recv(100):
                    break
        except OSError:
            pass
        time.sleep(0.2)
    else:
        raise SystemExit("gunicorn did not answer /healthz within 30 s")
    return proc, port


def get(port, path, headers):
    """One GET over HTTP/1.0: the status code and the whole answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        s.sendall(f"GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n{extra}\r\n".encode())
        answer = b""
        while chunk := s.recv(65536):
            answer += chunk
    return int(answer.split(b" ", 2)[1]), answer


def warm_up(port, paths, headers):
    """A few requests so each worker has imported everything and opened its connections;
    stops the benchmark if one is not answered 200 (a 401 or 404 would be measured as fast)."""
    for path in paths:
        for _ in range(6):
            status, answer = get(port, path, headers)
            if status != 200:
                raise SystemExit(f"GET {path} answered {status}:\n{answer[:2000].decode()}")


UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def wrk(port, path, args, *, headers=(), method="GET", body=None, script=None, script_args=()):
    workdir = Path(args.workdir)
    lua = workdir / "request.lua"
    if script is None:
        lua.write_text(
            f"wrk.method = {json.dumps(method)}\n"
            + (f"wrk.body = {json.dumps(body)}\n" if body is not None else "")
        )
    else:
        lua.write_text(script)
    cmd = [
        "wrk",
        "-t",
        str(args.threads),
        "-c",
        str(args.connections),
        "-d",
        f"{args.seconds}s",
        "--latency",
        "-s",
        str(lua),
    ]
    for header in headers:
        cmd += ["-H", header]
    cmd.append(f"http://127.0.0.1:{port}{path}")
    if script_args:
        cmd += ["--", *script_args]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout

    def latency(pct):
        m = re.search(rf"^\s*{pct}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        return float(m.group(1)) * UNITS[m.group(2)]

    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50": latency(50),
        "p99": latency(99),
        "non2xx": int(non2xx.group(1)) if non2xx else 0,
        "socket": sum(map(int, socket_errors.groups())) if socket_errors else 0,
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),
    }


def run_leg(name, database, args):
    workdir = Path(args.workdir)
    log(
        f"== {name}: seeding ({args.users} users, {args.users * args.entries_per_user} entries, "
        f"{len(VARIANTS)} x {args.refresh_pool} refresh tokens)"
    )
    env = app_env(database, GUNICORN_WORKERS=args.workers, GUNICORN_MAX_REQUESTS=0)
    # bench.settings: the peer's blacklist tables too.
    run([PYTHON, "manage.py", "migrate", "--verbosity", "0"], env)
    seeded = json.loads(
        run(
            [
                PYTHON,
                __file__,
                "_seed",
                "--workdir",
                str(workdir),
                "--users",
                str(args.users),
                "--entries-per-user",
                str(args.entries_per_user),
                "--refresh-pool",
                str(args.refresh_pool),
            ],
            env,
        )
        .strip()
        .splitlines()[-1]
    )
    proc, port = start_gunicorn(env, workdir, name)
    results = []
    try:
        for variant in VARIANTS:
            warm_up(
                port,
                [PREFIXES[variant] + "me", PREFIXES[variant] + "journal/entries?limit=20"],
                {"Authorization": f"Bearer {seeded['reader'][variant]}"},
            )
        json_header = "Content-Type: application/json"
        body = json.dumps({"content": "A day at the caf\u00e9, written from the benchmark."})
        refresh_lua = REFRESH_LUA.replace("wrk.format(nil", 'wrk.format("POST"')
        many_lua = f"BODY = {json.dumps(body)}\n" + MANY_WRITERS_LUA
        spent = dict.fromkeys(VARIANTS, 0)  # refresh tokens used so far from each pool
        scenarios = [s for s in SCENARIOS if s[0] in args.scenarios.split(",")]
        for kind, label, subpath in [] if args.key_cost_only else scenarios:
            # The variants take turns, and the median run of each is kept: a burst of noise
            # from a neighbour on the machine then moves one run, not the ratios.
            runs = {variant: [] for variant in VARIANTS}
            for round_number in range(1, args.rounds + 1):
                for variant in VARIANTS:
                    path = PREFIXES[variant] + subpath
                    log(f"   {label}: {variant}, round {round_number} ({args.seconds} s)")
                    if kind in ("list", "me"):
                        reader = f"Authorization: Bearer {seeded['reader'][variant]}"
                        figures = wrk(port, path, args, headers=[reader])
                    elif kind == "create_many":
                        figures = wrk(
                            port,
                            path,
                            args,
                            script=many_lua,
                            script_args=[seeded["writers"][variant]],
                        )
                    elif kind == "create":
                        writer = f"Authorization: Bearer {seeded['writer'][variant]}"
                        figures = wrk(
                            port,
                            path,
                            args,
                            headers=[writer, json_header],
                            method="POST",
                            body=body,
                        )
                    else:
                        figures = wrk(
                            port,
                            path,
                            args,
                            headers=[json_header],
                            script=refresh_lua,
                            script_args=[seeded["pools"][variant], str(spent[variant])],
                        )
                        # Requests still in flight when wrk stopped spent a token too.
                        spent[variant] += figures["requests"] + args.connections
                        if spent[variant] > args.refresh_pool:
                            log(f"   (pool of {args.refresh_pool} exhausted: raise --refresh-pool)")
                    runs[variant].append(figures)
            results.append((label, {variant: median_run(runs[variant]) for variant in VARIANTS}))
        key_cost = None
        if args.key_cost or args.key_cost_only:
            key_cost = measure_key_cost(port, seeded, args, leg=name, body=body)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    ceiling = None
    if name == "sqlite" and args.ceiling_workers and not args.key_cost_only:
        ceiling = write_ceiling(env, seeded, body, args)
    return results, key_cost, ceiling


def write_ceiling(env, seeded, body, args):
    """SQLite's whole-install ceiling: writes spread over every user, from --ceiling-workers
    workers and twice as many connections, ours against bare (one write lock per database,
    so the length of a write transaction is what bounds it)."""
    workdir = Path(args.workdir)
    proc, port = start_gunicorn(env, workdir, "ceiling", GUNICORN_WORKERS=args.ceiling_workers)
    many_lua = f"BODY = {json.dumps(body)}\n" + MANY_WRITERS_LUA
    ceiling_args = argparse.Namespace(**{**vars(args), "connections": 2 * args.ceiling_workers})
    runs = {variant: [] for variant in ("ours", "bare")}
    try:
        for round_number in range(1, args.rounds + 1):
            for variant in runs:
                log(f"   SQLite write ceiling: {variant}, round {round_number} ({args.seconds} s)")
                runs[variant].append(
                    wrk(
                        port,
                        PREFIXES[variant] + "journal/entries",
                        ceiling_args,
                        script=many_lua,
                        script_args=[seeded["writers"][variant]],
                    )
                )
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return {variant: median_run(figures) for variant, figures in runs.items()}


def measure_key_cost(port, seeded, args, *, leg, body):
    """Ours, creating entries without a key and with a new one on every request, in turns
    (so both meet the same neighbours on the machine): the median run of each."""
    writer = f"Authorization: Bearer {seeded['writer']['ours']}"
    headers = [writer, "Content-Type: application/json"]
    path = PREFIXES["ours"] + "journal/entries"
    lua = f"wrk.method = 'POST'\nwrk.body = {json.dumps(body)}\n"
    runs = {"without": [], "with": []}
    for round_number in range(1, args.rounds + 1):
        log(f"   create without a key, round {round_number} ({args.seconds} s)")
        runs["without"].append(wrk(port, path, args, headers=headers, method="POST", body=body))
        log(f"   create with a key, round {round_number} ({args.seconds} s)")
        prefix = f"{leg}-{round_number}-{time.time_ns()}"
        runs["with"].append(
            wrk(
                port,
                path,
                args,
                headers=headers,
                script=lua + KEYED_CREATE_LUA,
                script_args=[prefix],
            )
        )
    return {kind: median_run(kind_runs) for kind, kind_runs in runs.items()}


def median_run(runs):
    """The run with the median requests/s (the lower middle one of an even count)."""
    return sorted(runs, key=lambda figures: figures["rps"])[(len(runs) - 1) // 2]


def print_table(all_results, args):
    print()
    print(
        f"machine: {os.cpu_count()} cores, {cpu_model()}; {time.strftime('%Y-%m-%d')}; "
        f"gunicorn {args.workers} sync workers; wrk {args.threads} thread(s), "
        f"{args.connections} connections, {args.seconds} s a run, median of {args.rounds}"
    )
    header = f"{'':10}{'scenario':17}"
    for variant in VARIANTS:
        header += f"{variant + ' req/s':>11}{'p50 ms':>8}{'p99 ms':>8}{'errors':>8}"
    print(header + f"{'ours/peer':>10}{'ours/bare':>10}")
    for leg, (results, _key_cost, _ceiling) in all_results:
        for label, figures in results:
            line = f"{leg:10}{label:17}"
            for variant in VARIANTS:
                f = figures[variant]
                errors = f"{f['non2xx']}+{f['socket']}"
                line += f"{f['rps']:>11.0f}{f['p50']:>8.2f}{f['p99']:>8.2f}{errors:>8}"
            ours = figures["ours"]["rps"]
            line += f"{ours / figures['peer']['rps']:>10.2f}{ours / figures['bare']['rps']:>10.2f}"
            print(line)
    print("errors: non-2xx answers + socket errors (connect, read, write, timeout)")
    for leg, (_results, key_cost, _ceiling) in all_results:
        if key_cost is None:
            continue
        plain, keyed = key_cost["without"], key_cost["with"]
        print(
            f"{leg}: create {plain['rps']:.0f} req/s (p50 {plain['p50']:.2f} ms) without a key, "
            f"{keyed['rps']:.0f} req/s (p50 {keyed['p50']:.2f} ms) with one: a key costs "
            f"{plain['rps'] / keyed['rps']:.2f}x"
        )
    for leg, (_results, _key_cost, ceiling) in all_results:
        if ceiling is None:
            continue
        ours, bare = ceiling["ours"], ceiling["bare"]
        print(
            f"{leg} whole-install write ceiling ({args.ceiling_workers} workers, "
            f"{2 * args.ceiling_workers} connections, writes over {args.users} users): "
            f"ours {ours['rps']:.0f}/s (p99 {ours['p99']:.1f} ms, errors "
            f"{ours['non2xx']}+{ours['socket']}), bare {bare['rps']:.0f}/s (p99 "
            f"{bare['p99']:.1f} ms), ours/bare {ours['rps'] / bare['rps']:.2f}"
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10, help="seconds a wrk run lasts")
    parser.add_argument(
        "--rounds", type=int, default=3, help="runs of each variant, in turn; the median"
    )
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument(
        "--ceiling-workers",
        type=int,
        default=5,
        help="workers of the SQLite write-ceiling run (0: no such run)",
    )
    parser.add_argument("--entries-per-user", type=int, default=20)
    parser.add_argument(
        "--refresh-pool",
        type=int,
        default=40000,
        help="refresh tokens issued for each variant (one per request)",
    )
    parser.add_argument("--legs", default="sqlite,postgres")
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument(
        "--pg-database", default=PG_DATABASE, help="the database the PostgreSQL leg recreates"
    )
    parser.add_argument(
        "--key-cost-only",
        action="store_true",
        help="only what an Idempotency-Key costs a create (no scenarios, no write ceiling)",
    )
    parser.add_argument(
        "--scenarios",
        default=",".join(kind for kind, _label, _path in SCENARIOS),
        help="the scenarios to run, of " + ",".join(kind for kind, _label, _path in SCENARIOS),
    )
    parser.add_argument(
        "--no-key-cost",
        dest="key_cost",
        action="store_false",
        help="leave out what an Idempotency-Key costs a create",
    )
    parser.add_argument("--workdir", type=Path, default=ROOT / "data" / "bench-api")
    if len(sys.argv) > 1 and sys.argv[1] == "_seed":
        sys.argv.pop(1)
        return seed(parser.parse_args())
    args = parser.parse_args()
    args.workdir = args.workdir.resolve()
    args.workdir.mkdir(parents=True, exist_ok=True)
    all_results = []
    for leg in args.legs.split(","):
        if leg == "sqlite":
            path = args.workdir / "api.sqlite3"
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            database = {"SQLITE_PATH": str(path)}
        elif leg == "postgres":
            for sql in (
                f'DROP DATABASE IF EXISTS "{args.pg_database}" WITH (FORCE)',
                f'CREATE DATABASE "{args.pg_database}"',
            ):
                subprocess.run(
                    ["psql", "-q", "-v", "ON_ERROR_STOP=1", f"{args.pg}/postgres", "-c", sql],
                    check=True,
                    capture_output=True,
                )
            database = {"DATABASE_URL": f"{args.pg}/{args.pg_database}"}
        else:
            raise SystemExit(f"unknown leg {leg!r}: sqlite or postgres")
        all_results.append((leg, run_leg(leg, database, args)))
    print_table(all_results, args)


if __name__ == "__main__":
    main()
