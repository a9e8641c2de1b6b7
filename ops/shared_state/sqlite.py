"""The counts and pins of every process of the host, in one SQLite file in ``CACHE_DIR``."""

import sqlite3
import threading
import time
from pathlib import Path

from ops.shared_state.base import PURGE_SECONDS, SharedState
from ops.shared_state.window import refusal

# A new counts file is set up by the first process that gets to it: the others retry.
SETUP_ATTEMPTS = 5


class SQLiteStore(SharedState):
    """The counts and pins of every process of the host, in one SQLite file."""

    errors = (sqlite3.Error, OSError)  # corrupt, locked, unwritable or gone

    def __init__(self, path: Path):
        self.path = Path(path)
        self.name = str(self.path)
        self._local = threading.local()

    def _connection(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, timeout=1.0, isolation_level=None)
            for attempt in range(SETUP_ATTEMPTS):
                try:
                    db.execute("PRAGMA journal_mode=WAL")
                    db.execute("PRAGMA synchronous=OFF")  # counts lost in a crash: no harm
                    db.execute(
                        "CREATE TABLE IF NOT EXISTS throttle_counts (key TEXT, window INTEGER,"
                        " count INTEGER NOT NULL, expires REAL NOT NULL,"
                        " PRIMARY KEY (key, window)) WITHOUT ROWID"
                    )
                    db.execute(
                        "CREATE TABLE IF NOT EXISTS read_pins (key TEXT PRIMARY KEY,"
                        " until REAL NOT NULL) WITHOUT ROWID"
                    )
                    break
                except sqlite3.OperationalError:  # another process is setting it up
                    if attempt == SETUP_ATTEMPTS - 1:
                        db.close()
                        raise
                    time.sleep(0.05 * (attempt + 1))
            self._local.db = db
            self._local.next_purge = 0.0
        return db

    def hit(self, key: str, limit: int, duration: int, now: float) -> tuple[bool, float]:
        db = self._connection()
        db.execute("BEGIN IMMEDIATE")  # read, check and count as one step across processes
        try:
            result = self._hit(db, key, limit, duration, now)
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        return result

    def _hit(self, db, key: str, limit: int, duration: int, now: float) -> tuple[bool, float]:
        window = int(now // duration)
        counts = dict(
            db.execute(
                "SELECT window, count FROM throttle_counts WHERE key = ? AND window >= ?",
                (key, window - 1),
            ).fetchall()
        )
        previous, current = counts.get(window - 1, 0), counts.get(window, 0)
        wait = refusal(previous, current, window, duration, limit, now)
        if wait is not None:
            return False, wait
        db.execute(
            "INSERT INTO throttle_counts VALUES (?, ?, 1, ?) ON CONFLICT (key, window)"
            " DO UPDATE SET count = count + 1",
            (key, window, (window + 2) * duration),
        )
        if now >= self._local.next_purge:
            db.execute("DELETE FROM throttle_counts WHERE expires <= ?", (now,))
            db.execute("DELETE FROM read_pins WHERE until <= ?", (now,))
            self._local.next_purge = now + PURGE_SECONDS
        return True, 0.0

    def pin(self, key: str, seconds: float, now: float) -> None:
        self._connection().execute(
            "INSERT INTO read_pins VALUES (?, ?) ON CONFLICT (key)"
            " DO UPDATE SET until = max(until, excluded.until)",
            (key, now + seconds),
        )

    def pinned(self, key: str, now: float) -> bool:
        row = (
            self._connection()
            .execute("SELECT until FROM read_pins WHERE key = ?", (key,))
            .fetchone()
        )
        return row is not None and row[0] > now

    def clear(self) -> None:
        db = self._connection()
        db.execute("DELETE FROM throttle_counts")
        db.execute("DELETE FROM read_pins")

    def windows_kept(self) -> int:
        return self._connection().execute("SELECT count(*) FROM throttle_counts").fetchone()[0]

    def disconnect(self) -> None:
        """Close this thread's connection: the next hit opens the file afresh."""
        db = getattr(self._local, "db", None)
        self._local.db = None
        if db is not None:
            db.close()
