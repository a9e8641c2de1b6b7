"""Measure copy_from_sqlite (and verify_copy, the online catch-up) against the alternatives.

Builds a SQLite database of the app (default: 100k users, 1M journal entries, 200k refresh
tokens, 50k subscriptions with events), then prints seconds, rows/s and peak memory for:
  - `manage.py copy_from_sqlite` and `manage.py verify_copy`, at full and at a small size
    (peak memory must stay flat),
  - the ceiling: `psql \\copy` of the same data from CSV into bare tables, then the same
    indexes and constraints built afterwards, in one transaction,
  - pgloader (Debian's; tuned so that it completes),
  - `dumpdata | loaddata` on the small size, extrapolated,
  - the online mode: `copy_from_sqlite --cutover`'s write pause with a writer running
    (`writes paused for S s at N rows`); with --switch, the app served by gunicorn as
    `make serve` serves it, a writer, a reader and a refresher calling the API, and
    `--cutover --switch` moving it to PostgreSQL then `copy_to_sqlite --switch` back
    (`switch: N requests refused, longest request S s at R rows`, the same for `way back`,
    and the acknowledged writes lost or stored twice).

    .venv/bin/python bench/copy.py [--entries 1000000] [--runs 3] [--switch] [--skip-pgloader] ...

Needs a PostgreSQL server it may create databases on (--pg, default the local one).
"""

import argparse
import json
import os
import re
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, bench/ is first on the path: the project goes next, for bench.machine.
sys.path.insert(1, str(ROOT))
from bench.machine import cpu_model  # noqa: E402
from scripts.api_client import call  # noqa: E402

PYTHON = sys.executable


def log(message):
    print(message, flush=True)


def peak_rss_mb(args, env=None, cwd=ROOT, stdout_path=None):
    """Run and return (seconds, peak RSS MB, stdout) using wait4 on the child itself."""
    started = time.monotonic()
    out = open(stdout_path, "wb") if stdout_path else subprocess.PIPE  # noqa: SIM115
    proc = subprocess.Popen(args, cwd=cwd, env=env, stdout=out, stderr=subprocess.PIPE)
    stdout_chunks = []
    if not stdout_path:
        stdout_chunks.append(proc.stdout.read())
    stderr = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.monotonic() - started
    if stdout_path:
        out.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(map(str, args))} failed:\n{stderr.decode()[-2000:]}")
    return seconds, usage.ru_maxrss / 1024, b"".join(stdout_chunks).decode()


def app_env(**extra):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SQLITE_PATH")}
    env.update(
        {"SECRET_KEY": "bench-secret-key-bench-secret-key-0123456789-abcdefghij", "DEBUG": "0"}
    )
    env.update({k: str(v) for k, v in extra.items()})
    return env


def manage(*args, **env):
    return peak_rss_mb([PYTHON, "manage.py", *args], env=app_env(**env))


def psql(pg, sql, db="postgres"):
    subprocess.run(
        ["psql", "-q", "-v", "ON_ERROR_STOP=1", f"{pg}/{db}", "-c", sql],
        check=True,
        capture_output=True,
    )


def fresh_database(pg, name):
    psql(pg, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    psql(pg, f'CREATE DATABASE "{name}"')
    manage("migrate", "--verbosity", "0", DATABASE_URL=f"{pg}/{name}")


def build_sqlite(path, *, users, entries, tokens, subscriptions, seed=1):
    """The source, made by the app itself (`manage.py fill_demo_data`, through its models):
    what is copied is what the models write, and no copy of the schema lives here."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    manage("migrate", "--verbosity", "0", SQLITE_PATH=path)
    manage(
        "fill_demo_data",
        "--users",
        str(users),
        "--entries",
        str(entries),
        "--sessions-per-user",
        str(max(1, round(tokens / max(users, 1)))),
        "--subscribed",
        str(min(1.0, subscriptions / max(users, 1))),
        "--seed",
        str(seed),
        SQLITE_PATH=path,
    )
    conn = sqlite3.connect(path)
    counts = {}
    for (table,) in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    ).fetchall():
        counts[table] = conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
    conn.close()
    return counts


def measure_check(pg, path, db):
    """`copy_from_sqlite --check` against an empty, migrated target: the whole command."""
    fresh_database(pg, db)
    seconds, rss, _ = manage("copy_from_sqlite", str(path), "--check", DATABASE_URL=f"{pg}/{db}")
    return {"wall": seconds, "rss": rss}


def measure_copy(pg, path, db):
    fresh_database(pg, db)
    seconds, rss, out = manage("copy_from_sqlite", str(path), DATABASE_URL=f"{pg}/{db}")
    copy_s = float(re.search(r"rows in ([\d.]+) s \(", out).group(1))
    verify_s = float(re.search(r"verified \d+ tables, [\d,]+ rows in ([\d.]+) s", out).group(1))
    v_seconds, v_rss, _ = manage("verify_copy", str(path), DATABASE_URL=f"{pg}/{db}")
    return {
        "wall": seconds,
        "copy": copy_s,
        "verify_inline": verify_s,
        "rss": rss,
        "verify_wall": v_seconds,
        "verify_rss": v_rss,
    }


def measure_ceiling(pg, db, workdir, tables):
    """psql \\copy from CSV into bare tables, then the same keys, indexes and foreign keys."""
    csv_dir = workdir / "csv"
    shutil.rmtree(csv_dir, ignore_errors=True)
    csv_dir.mkdir(parents=True)
    csv_dir.chmod(0o777)
    for table in tables:
        psql(pg, f"COPY \"{table}\" TO '{csv_dir}/{table}.csv' WITH (FORMAT csv)", db)
    ddl = subprocess.run(
        [
            "psql",
            "-At",
            f"{pg}/{db}",
            "-c",
            "SELECT string_agg(s, E';\\n') FROM ("
            " SELECT format('ALTER TABLE bare.%I ADD CONSTRAINT %I %s', conrelid::regclass::text,"
            "  conname, pg_get_constraintdef(oid)) AS s, CASE contype WHEN 'p' THEN 0 WHEN 'u'"
            "  THEN 1 ELSE 3 END AS o FROM pg_constraint WHERE contype IN ('p','u','f')"
            "  AND connamespace = 'public'::regnamespace"
            " UNION ALL SELECT replace(pg_get_indexdef(indexrelid), ' ON public.', ' ON bare.'), 2"
            "  FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid"
            "  WHERE c.relnamespace = 'public'::regnamespace AND NOT EXISTS"
            "  (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)"
            " ORDER BY o) d",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    setup = ["DROP SCHEMA IF EXISTS bare CASCADE", "CREATE SCHEMA bare"]
    setup += [f'CREATE TABLE bare."{t}" (LIKE public."{t}")' for t in tables]
    psql(pg, "; ".join(setup), db)
    script = workdir / "ceiling.sql"
    lines = ["SET search_path = bare;", "SET statement_timeout = 0;"]
    lines += [f"\\copy \"{t}\" FROM '{csv_dir}/{t}.csv' WITH (FORMAT csv)" for t in tables]
    lines += [ddl + ";"]
    script.write_text("\n".join(lines) + "\n")
    started = time.monotonic()
    subprocess.run(
        ["psql", "-q", "-1", "-v", "ON_ERROR_STOP=1", f"{pg}/{db}", "-f", str(script)],
        check=True,
        capture_output=True,
    )
    seconds = time.monotonic() - started
    psql(pg, "DROP SCHEMA bare CASCADE", db)
    return seconds


def measure_pgloader(pg, path, workdir):
    if shutil.which("pgloader") is None:
        return None
    psql(pg, 'DROP DATABASE IF EXISTS "bench_pgloader" WITH (FORCE)')
    psql(pg, 'CREATE DATABASE "bench_pgloader"')
    load = workdir / "pgloader.load"
    load.write_text(
        f"LOAD DATABASE FROM sqlite://{path} INTO {pg}/bench_pgloader\n"
        "WITH include drop, create tables, create indexes, reset sequences,\n"
        "     prefetch rows = 10000, batch rows = 5000;\n"
    )
    seconds, rss, _ = peak_rss_mb(["pgloader", "--quiet", str(load)], cwd=workdir)
    return {"wall": seconds, "rss": rss}


def measure_dumpdata(pg, small_path, workdir):
    dump = workdir / "dump.json"
    d_seconds, d_rss, _ = peak_rss_mb(
        [
            PYTHON,
            "manage.py",
            "dumpdata",
            "--exclude",
            "contenttypes",
            "--exclude",
            "auth.permission",
            "--exclude",
            "dbcopy",
            "-o",
            str(dump),
        ],
        env=app_env(SQLITE_PATH=small_path),
    )
    fresh_database(pg, "bench_loaddata")
    l_seconds, l_rss, _ = manage("loaddata", str(dump), DATABASE_URL=f"{pg}/bench_loaddata")
    return {"dump": d_seconds, "load": l_seconds, "rss": max(d_rss, l_rss)}


WRITER = r"""
import os, random, sqlite3, sys, time, uuid
path, pause, ack, rate = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
conn = sqlite3.connect(path, timeout=30, isolation_level=None)
users = [r[0] for r in conn.execute("SELECT id FROM accounts_user LIMIT 1000")]
rng = random.Random(3); n = 0
while not os.path.exists(pause + ".stop"):
    if os.path.exists(pause):
        open(ack, "w").close(); time.sleep(0.01); continue
    now = time.strftime("%Y-%m-%d %H:%M:%S")
    op = rng.random()
    # Each write moves its user's usage row in the same transaction, as the app does.
    conn.execute("BEGIN IMMEDIATE")
    if op < 0.6:
        c = "live entry %d" % n
        user = rng.choice(users)
        conn.execute("INSERT INTO journal_journalentry (id, user_id, content, size_bytes,"
                     " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                     (uuid.uuid4().hex, user, c, len(c), now, now))
        conn.execute("INSERT INTO journal_journalusage (user_id, bytes_used, entries)"
                     " VALUES (?, ?, 1) ON CONFLICT (user_id) DO UPDATE SET"
                     " bytes_used = bytes_used + excluded.bytes_used, entries = entries + 1",
                     (user, len(c)))
    else:
        rowid = rng.randint(1, 100000)
        old = conn.execute("SELECT user_id, size_bytes FROM journal_journalentry"
                           " WHERE rowid = ?", (rowid,)).fetchone()
        if old and op < 0.9:
            conn.execute("UPDATE journal_journalentry SET content = 'edited', size_bytes = 6,"
                         " updated_at = ? WHERE rowid = ?", (now, rowid))
            conn.execute("UPDATE journal_journalusage SET bytes_used = bytes_used + ?"
                         " WHERE user_id = ?", (6 - old[1], old[0]))
        elif old:
            conn.execute("DELETE FROM journal_journalentry WHERE rowid = ?", (rowid,))
            conn.execute("UPDATE journal_journalusage SET bytes_used = bytes_used - ?,"
                         " entries = entries - 1 WHERE user_id = ?", (old[1], old[0]))
    conn.execute("COMMIT")
    n += 1
    time.sleep(1 / rate)
print(n)
"""


def fresh_copy(path, copy):
    """A copy of the SQLite file without the WAL of an earlier copy of the same name (a
    server stopped mid-write leaves one, and SQLite would replay it into this file)."""
    for leftover in (Path(f"{copy}-wal"), Path(f"{copy}-shm")):
        leftover.unlink(missing_ok=True)
    shutil.copy(path, copy)


def measure_online(pg, path, workdir, rate, db="bench_online"):
    online = workdir / "online.sqlite3"
    fresh_copy(path, online)
    fresh_database(pg, db)
    url = f"{pg}/{db}"
    pause, ack = workdir / "paused", workdir / "paused.ack"
    for f in (pause, ack, Path(f"{pause}.stop")):
        f.unlink(missing_ok=True)
    writer = subprocess.Popen(
        [PYTHON, "-c", WRITER, str(online), str(pause), str(ack), str(rate)], stdout=subprocess.PIPE
    )
    try:
        time.sleep(1)
        copy_s, _, _ = manage("copy_from_sqlite", str(online), "--capture", DATABASE_URL=url)
        # The cutover turns maintenance on by creating the flag file; the writer, like the
        # app, stops writing as soon as it sees it.
        started = time.monotonic()
        cutover_out = subprocess.run(
            [PYTHON, "manage.py", "copy_from_sqlite", str(online), "--cutover"],
            env=app_env(DATABASE_URL=url, MAINTENANCE_FLAG_PATH=str(pause)),
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        cutover_process = time.monotonic() - started
    finally:
        Path(f"{pause}.stop").touch()
        writes = int(writer.communicate(timeout=30)[0] or 0)
    lines = cutover_out.splitlines()
    return {
        "copy": copy_s,
        "rounds": [line for line in lines if line.startswith("while writing:")],
        "final": next(line for line in lines if line.startswith("writes paused: ")),
        "paused": float(re.search(r"writes paused for ([\d.]+) s", cutover_out).group(1)),
        "cutover_process": cutover_process,
        "writes": writes,
    }


class ApiClient(threading.Thread):
    """A client of the API calling one endpoint as fast as answers come, at most ``rate`` a
    second; keeps (start, seconds, status, content written or None) of every request."""

    def __init__(self, base, token, rate, kind, refresh=None):
        super().__init__(daemon=True)
        self.base, self.token, self.rate, self.kind = base, token, rate, kind
        self.refresh = refresh
        self.stop = threading.Event()
        self.answers = []

    def call(self, method, path, body=None, token=True):
        """(status, JSON body or None); status 0 when no answer came at all."""
        answer = call(
            self.base, method, path, token=self.token if token else None, body=body, timeout=60
        )
        return answer.status, answer.body

    def run(self):
        n = 0
        while not self.stop.is_set():
            n += 1
            started, content = time.monotonic(), None
            if self.kind == "writer":
                content = f"api entry {n}"
                status, _ = self.call("POST", "/api/v1/journal/entries", {"content": content})
            elif self.kind == "reader":
                status, _ = self.call("GET", "/api/v1/journal/entries?limit=5")
            else:
                status, body = self.call(
                    "POST", "/api/v1/auth/refresh", {"refresh": self.refresh}, token=False
                )
                if status == 200:
                    self.refresh = body["refresh"]
            self.answers.append((started, time.monotonic() - started, status, content))
            time.sleep(1 / self.rate)


def move_figures(clients, started, ended):
    """Refused (or failed) requests and request times of the requests begun during a move."""
    during = [a for c in clients for a in c.answers if started <= a[0] <= ended]
    times = sorted(seconds for _, seconds, _, _ in during)
    return {
        "requests": len(during),
        "refused": sum(1 for _, _, status, _ in during if status not in (200, 201)),
        "longest": times[-1] if times else 0.0,
        "p99": times[min(len(times) - 1, int(len(times) * 0.99))] if times else 0.0,
    }


def serve(env, workdir):
    """gunicorn as `make serve` starts it; returns (process, base URL)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**env, "GUNICORN_BIND": f"127.0.0.1:{port}", "STATIC_ROOT": str(workdir / "static")}
    subprocess.run(
        [PYTHON, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    log_file = (workdir / "gunicorn.log").open("w")  # noqa: SIM115
    server = subprocess.Popen(
        [PYTHON, "-m", "gunicorn", "-c", "config/gunicorn.conf.py", "config.wsgi"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log_file,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=5):  # noqa: S310
                return server, base
        except OSError:
            time.sleep(0.1)
    raise SystemExit("gunicorn did not start: see " + str(workdir / "gunicorn.log"))


def measure_switch(pg, path, workdir, rate, db="bench_switch"):
    """Both one-step moves with the app served by gunicorn and a writer, a reader and a
    refresher running: refused requests and request times during each, then every write
    acknowledged looked for in the rollback file (none lost, none twice)."""
    online = workdir / "switch.sqlite3"
    rollback = workdir / "switch-rollback.sqlite3"
    fresh_copy(path, online)
    rollback.unlink(missing_ok=True)
    fresh_database(pg, db)
    url = f"{pg}/{db}"
    state = {
        "MAINTENANCE_FLAG_PATH": workdir / "switch.flag",
        "DATABASE_TARGET_PATH": workdir / "switch.target",
        "GUNICORN_PID_FILE": workdir / "switch.pid",
    }
    for f in state.values():
        f.unlink(missing_ok=True)
    token_code = (
        "import json; from accounts.models import User; "
        "from tokens.services import start_session; "
        "u = User(provider='google', provider_subject='bench-api-writer'); "
        "u.set_unusable_password(); u.save(); p = start_session(user=u); "
        "print(json.dumps({'access': p.access, 'refresh': p.refresh}))"
    )
    _, _, out = manage("shell", "-c", token_code, SQLITE_PATH=online, **state)
    tokens = json.loads(out.splitlines()[-1])
    manage("copy_from_sqlite", str(online), "--capture", "--no-progress", DATABASE_URL=url)
    rates = {"THROTTLE_WRITE_RATE": "1000000/min", "THROTTLE_REFRESH_RATE": "1000000/min"}
    server, base = serve(app_env(SQLITE_PATH=online, **rates, **state), workdir)
    clients = [
        ApiClient(base, tokens["access"], rate, "writer"),
        ApiClient(base, tokens["access"], rate, "reader"),
        ApiClient(base, tokens["access"], rate, "refresher", refresh=tokens["refresh"]),
    ]

    def move(*args, **env):
        started = time.monotonic()
        out = subprocess.run(
            [PYTHON, "manage.py", *args, "--no-progress"],
            env=app_env(**env, **state),
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        figures = move_figures(clients, started, time.monotonic())
        figures["switched"] = next(
            line for line in out.splitlines() if line.startswith("switched:")
        )
        return figures

    try:
        for client in clients:
            client.start()
        time.sleep(1)
        forward = move("copy_from_sqlite", str(online), "--cutover", "--switch", DATABASE_URL=url)
        time.sleep(1)
        back = move("copy_to_sqlite", str(rollback), "--switch", SQLITE_PATH=online)
        time.sleep(1)
    finally:
        for client in clients:
            client.stop.set()
            client.join(60)
        server.terminate()
        server.wait(60)
    written = [content for _, _, status, content in clients[0].answers if status == 201]
    with sqlite3.connect(rollback) as kept:
        stored = dict(
            kept.execute(
                "SELECT content, COUNT(*) FROM journal_journalentry WHERE content LIKE "
                "'api entry %' GROUP BY content"
            ).fetchall()
        )
    return {
        "forward": forward,
        "back": back,
        "writes": len(written),
        "lost": sum(1 for content in written if content not in stored),
        "twice": sum(1 for count in stored.values() if count > 1),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--tokens", type=int, default=200_000)
    parser.add_argument("--subscriptions", type=int, default=50_000)
    parser.add_argument(
        "--small-factor",
        type=int,
        default=100,
        help="the small size is the default size divided by this",
    )
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument(
        "--db-prefix", default="bench", help="names of the databases made (PREFIX_copy, ...)"
    )
    parser.add_argument("--workdir", type=Path, default=ROOT / "data" / "bench")
    parser.add_argument("--writes-per-second", type=float, default=200)
    parser.add_argument(
        "--runs", type=int, default=3, help="interleaved runs of each side; medians are printed"
    )
    parser.add_argument("--skip-pgloader", action="store_true")
    parser.add_argument("--skip-dumpdata", action="store_true")
    parser.add_argument("--skip-online", action="store_true")
    parser.add_argument(
        "--switch",
        action="store_true",
        help="also --cutover --switch with the app served by gunicorn and a client writing",
    )
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    workdir = args.workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    sizes = {
        "users": args.users,
        "entries": args.entries,
        "tokens": args.tokens,
        "subscriptions": args.subscriptions,
    }
    small = {k: max(v // args.small_factor, 1) for k, v in sizes.items()}

    log(f"building the source: {sizes}")
    big_path, small_path = workdir / "big.sqlite3", workdir / "small.sqlite3"
    started = time.monotonic()
    counts = build_sqlite(big_path, **sizes)
    small_counts = build_sqlite(small_path, **small)
    rows = sum(v for k, v in counts.items() if not k.startswith("dbcopy"))
    small_rows = sum(v for k, v in small_counts.items() if not k.startswith("dbcopy"))
    log(
        f"  {rows:,} rows, {big_path.stat().st_size / 1e6:.0f} MB, built in "
        f"{time.monotonic() - started:.0f} s"
    )

    prefix = args.db_prefix
    tables = list(counts)  # every table of the schema, as the ceiling rebuilds all of them
    dumpdata = None
    runs = []
    # Each run measures every side once, in turn, so that a busy spell of the machine falls
    # on all of them rather than on one; the figures printed are the medians over the runs.
    for n in range(1, args.runs + 1):
        log(f"run {n} of {args.runs}")
        run = {}
        log("  copy_from_sqlite --check, full size")
        run["check"] = measure_check(args.pg, big_path, f"{prefix}_copy")
        log("  copy_from_sqlite, full size")
        run["big"] = measure_copy(args.pg, big_path, f"{prefix}_copy")
        log("  copy_from_sqlite, small size")
        run["small"] = measure_copy(args.pg, small_path, f"{prefix}_small")
        log("  psql \\copy ceiling")
        run["ceiling"] = measure_ceiling(args.pg, f"{prefix}_copy", workdir, tables)
        if not args.skip_pgloader:
            pgloader = measure_pgloader(args.pg, big_path, workdir)
            log(
                "  pgloader"
                + (" (not installed: apt-get install pgloader)" if not pgloader else "")
            )
            if pgloader:
                run["pgloader"] = pgloader
        if not args.skip_online:
            for size, path in (("big", big_path), ("small", small_path)):
                log(f"  online mode, {size} size (writer running)")
                run[f"online_{size}"] = measure_online(
                    args.pg, path, workdir, args.writes_per_second, db=f"{prefix}_online"
                )
        if args.switch:
            log("  online mode with --switch (gunicorn serving, a client writing)")
            run["switch"] = measure_switch(
                args.pg, big_path, workdir, args.writes_per_second, db=f"{prefix}_switch"
            )
        runs.append(run)
    if not args.skip_dumpdata:
        log("dumpdata | loaddata, small size")
        dumpdata = measure_dumpdata(args.pg, small_path, workdir)

    def med(*path):
        values = []
        for run in runs:
            value = run
            for key in path:
                value = value.get(key) if isinstance(value, dict) else None
            if value is not None:
                values.append(value)
        return statistics.median(values) if values else None

    def spread(a, b):
        """The run-by-run ratios a/b, lowest to highest."""
        ratios = sorted(
            run[a[0]][a[1]] / run[b] if isinstance(b, str) else run[a[0]][a[1]] / run[b[0]][b[1]]
            for run in runs
            if a[0] in run
        )
        return f"{ratios[0]:.2f} to {ratios[-1]:.2f}" if ratios else "-"

    def rate(n, s):
        return f"{n / s:>12,.0f}"

    big = {key: med("big", key) for key in runs[0]["big"]}
    little = {key: med("small", key) for key in runs[0]["small"]}
    ceiling = med("ceiling")
    pgloader = (
        {key: med("pgloader", key) for key in ("wall", "rss")} if med("pgloader", "wall") else None
    )
    print()
    print(
        f"machine: {os.cpu_count()} cores, {cpu_model()}; {time.strftime('%Y-%m-%d')}; "
        f"{rows:,} rows ({big_path.stat().st_size / 1e6:.0f} MB SQLite); "
        f"medians of {len(runs)} interleaved run(s)"
    )
    print(f"{'':42}{'seconds':>9}{'rows/s':>13}{'peak MB':>9}")
    print(
        f"{'copy_from_sqlite (copy, one transaction)':42}{big['copy']:>9.1f}"
        f"{rate(rows, big['copy'])}{big['rss']:>9.0f}"
    )
    print(f"{'  its verification before commit':42}{big['verify_inline']:>9.1f}")
    print(f"{'  whole command (start-up, copy, verify)':42}{big['wall']:>9.1f}")
    print(
        f"{'verify_copy (whole command)':42}{big['verify_wall']:>9.1f}"
        f"{rate(rows, big['verify_wall'])}{big['verify_rss']:>9.0f}"
    )
    ceiling_label = "psql \\copy CSV + keys/indexes/FKs (ceiling)"
    print(f"{ceiling_label:42}{ceiling:>9.1f}{rate(rows, ceiling)}")
    if pgloader:
        print(
            f"{'pgloader (prefetch 10000, batch 5000)':42}{pgloader['wall']:>9.1f}"
            f"{rate(rows, pgloader['wall'])}{pgloader['rss']:>9.0f}"
        )
    print(
        f"{'small size: copy_from_sqlite':42}{little['copy']:>9.2f}"
        f"{rate(small_rows, little['copy'])}{little['rss']:>9.0f}"
    )
    print(f"{'  whole command':42}{little['wall']:>9.2f}")
    print(
        f"{'small size: verify_copy':42}{little['verify_wall']:>9.2f}"
        f"{'':>13}{little['verify_rss']:>9.0f}"
    )
    if dumpdata:
        total = dumpdata["dump"] + dumpdata["load"]
        print(
            f"{'small size: dumpdata | loaddata':42}{total:>9.1f}{rate(small_rows, total)}"
            f"{dumpdata['rss']:>9.0f}"
        )
        print(f"{'  extrapolated to the full size':42}{total * rows / small_rows:>9.0f}")
    print()
    print(
        f"copy / ceiling: {big['copy'] / ceiling:.2f} (runs: {spread(('big', 'copy'), 'ceiling')})"
    )
    print(
        f"check / copy: {med('check', 'wall') / big['wall']:.2f} (--check "
        f"{med('check', 'wall'):.1f} s, copy_from_sqlite {big['wall']:.1f} s, whole commands; "
        f"runs: {spread(('check', 'wall'), ('big', 'wall'))})"
    )
    print(
        f"whole command / ceiling: {big['wall'] / ceiling:.2f} "
        f"(runs: {spread(('big', 'wall'), 'ceiling')})"
    )
    if pgloader:
        print(
            f"pgloader / copy: {pgloader['wall'] / big['copy']:.2f} "
            f"(runs: {spread(('pgloader', 'wall'), ('big', 'copy'))})"
        )
    print(
        f"peak memory: {max(little['rss'], little['verify_rss']):.0f} MB at "
        f"{small_counts['journal_journalentry']:,} entries, "
        f"{max(big['rss'], big['verify_rss']):.0f} MB at {counts['journal_journalentry']:,}"
    )
    print(
        f"verify_copy / copy_from_sqlite (whole commands): {big['verify_wall'] / big['wall']:.2f}"
    )
    for size, n_rows in (("big", rows), ("small", small_rows)):
        key = f"online_{size}"
        if key not in runs[0]:
            continue
        last = runs[-1][key]
        print(f"online, {n_rows:,} rows: {last['writes']} writes by the writer (last run)")
        for line in last["rounds"]:
            print(f"online, {n_rows:,} rows: {line}")
        print(f"online, {n_rows:,} rows: {last['final']}")
        paused = sorted(run[key]["paused"] for run in runs)
        print(
            f"writes paused for {med(key, 'paused'):.2f} s at {n_rows:,} rows (runs: "
            f"{paused[0]:.2f} to {paused[-1]:.2f}; maintenance on to verified: quiet wait, last "
            "catch-up and its rows' check; every table was verified while the writer ran); the "
            f"cutover command took {med(key, 'cutover_process'):.2f} s"
        )
    if "switch" in runs[0]:
        last = runs[-1]["switch"]
        print(
            f"switch: {last['writes']} writes acknowledged through the API, {last['lost']} "
            f"lost, {last['twice']} stored twice (last run; a writer, a reader and a refresher)"
        )
        for key, name in (("forward", "switch"), ("back", "way back")):
            figures = [run["switch"][key] for run in runs]
            refused = sum(f["refused"] for f in figures)
            longest = max(f["longest"] for f in figures)
            p99 = max(f["p99"] for f in figures)
            requests = sum(f["requests"] for f in figures)
            print(
                f"{name}: {refused} requests refused, longest request {longest:.2f} s at "
                f"{rows:,} rows (p99 {p99:.2f} s, {requests} requests during the move, "
                f"{len(runs)} run(s))"
            )
            print(f"{name}: {figures[-1]['switched']}")


if __name__ == "__main__":
    main()
