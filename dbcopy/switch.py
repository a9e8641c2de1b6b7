"""The one-step moves: the running app (gunicorn, ``make serve``) goes from the SQLite file it
serves to PostgreSQL (``copy_from_sqlite PATH --cutover --switch``), or from PostgreSQL to a
new SQLite file (``copy_to_sqlite PATH --switch``), and no request is refused.

Both go the same way (``_move``): the hold file is written naming the database moved to
(ops/maintenance.py), the database target file is pointed at it (config/target.py), and
gunicorn's workers are replaced (``ops.gunicorn_control.replace_workers``): new workers start
on the new database and hold every request; the old ones serve on the old database, unheld,
until every new one has loaded the app, then finish what they serve and leave. Once no old
worker is left nothing writes the old database, so what it holds is final: the last step (the final
replay of the changes the old database's capture logged since the last catch-up: triggers on
SQLite, ``dbcopy.capture``, or on PostgreSQL, ``dbcopy.pg_capture``) makes the new database the
same, verified, and the hold is lifted.
A request held longer than ``CUTOVER_HOLD_SECONDS`` is refused with 503 ``maintenance``.
docs/copy.md says why no held write lands on the database being left and nothing is read
stale. Before anything is held, every worker's published settings are compared with the
command's (``check_followers``): a worker that would not follow refuses the move.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from django.conf import settings

from dbcopy import pg_capture, postgres
from dbcopy.catchup import CatchUpReport
from dbcopy.cutover import MAX_ROUNDS, SETTLED_ROWS, catch_up_while_writing, final_replay
from dbcopy.exceptions import CopyFailed, CopyRefused, MoveStuck
from dbcopy.plan import prepare
from dbcopy.progress import Progress
from dbcopy.rollback import (
    BackRound,
    catch_up_back,
    create_rollback_file,
    fill_rollback_file,
    remove_rollback_file,
)
from dbcopy.steps import CopyReport
from dbcopy.tables import copied_tables
from dbcopy.target import remove_target, sqlite_url, write_target
from dbcopy.verify import VerifyReport
from ops import gunicorn_control, maintenance

T = TypeVar("T")

# Workers started a moment ago (a reload, max_requests) publish their settings once booted.
PUBLISH_WAIT_SECONDS = 10.0


@dataclass
class SwitchReport:
    master: int
    held_seconds: float  # from the hold written to the hold lifted


@dataclass
class ForwardReport(SwitchReport):
    rounds: list[CatchUpReport]  # while the app was still writing
    verification: VerifyReport  # every table, while the app was still writing
    final: CatchUpReport  # once no old worker was left


@dataclass
class BackReport(SwitchReport):
    copy: CopyReport  # every row, while the app was still writing
    rounds: list[BackRound]  # while the app was still writing
    final: BackRound  # once no old worker was left


def running_server() -> gunicorn_control.Server:
    try:
        return gunicorn_control.running_server()
    except gunicorn_control.ServerNotRunning as exc:
        hint = "--switch moves an app served by `make serve` (gunicorn)"
        raise CopyRefused(f"{hint}: {exc}") from None


def _describe(database: dict[str, Any]) -> str:
    if database.get("vendor") == "sqlite":
        return f"the SQLite file {database['name']}"
    where = ":".join(p for p in (database.get("host"), database.get("port")) if p)
    return f"the {database.get('vendor')} database {database.get('name')} at {where or 'localhost'}"


def _published(server: gunicorn_control.Server) -> dict[int, dict[str, Any]]:
    deadline = time.monotonic() + PUBLISH_WAIT_SECONDS
    while True:
        published = server.published()
        missing = [pid for pid, found in published.items() if found is None]
        if published and not missing:
            return {pid: found for pid, found in published.items() if found is not None}
        if time.monotonic() >= deadline:
            break
        time.sleep(0.05)
    where = gunicorn_control.published_dir(server.pid_file)
    if not published:
        raise CopyRefused(f"--switch: gunicorn (pid {server.master}) runs no worker")
    raise CopyRefused(
        f"--switch: gunicorn (pid {server.master}) worker {missing[0]} published no settings in "
        f"{where}: restart it with this version's config/gunicorn.conf.py"
    )


def check_followers(server: gunicorn_control.Server, *, serving: dict[str, str]) -> None:
    """Refused (before anything is paused or held) unless every worker would follow the move:
    it reads the database target file (``DATABASE_URL`` unset), the same one, the same
    maintenance flag (and so the same hold file), and now serves ``serving``, the database
    this command moves the app from."""
    master = server.master
    ours_target = str(Path(settings.DATABASE_TARGET_PATH).resolve())
    ours_flag = str(maintenance.flag_path().resolve())
    for found in _published(server).values():
        if found["database_url_set"]:
            raise CopyRefused(
                f"--switch: gunicorn (pid {master}) runs with DATABASE_URL set, which wins over "
                "the database target file, so its workers would stay where they are: serve with "
                "DATABASE_URL unset (`make serve`), or move the app by hand"
            )
        if found["database_target_path"] != ours_target:
            raise CopyRefused(
                f"--switch: gunicorn (pid {master}) reads the database target file "
                f"{found['database_target_path']}, this command writes {ours_target}: give both "
                "the same DATABASE_TARGET_PATH"
            )
        if found["maintenance_flag_path"] != ours_flag:
            raise CopyRefused(
                f"--switch: gunicorn (pid {master}) reads the maintenance flag file "
                f"{found['maintenance_flag_path']}, this command writes {ours_flag}: give both "
                "the same MAINTENANCE_FLAG_PATH"
            )
        if found["database"] != serving:
            raise CopyRefused(
                f"--switch: gunicorn (pid {master}) serves {_describe(found['database'])}, this "
                f"command moves it from {_describe(serving)}"
            )


def _move(
    server: gunicorn_control.Server,
    *,
    to_url: str,
    to_database: dict[str, str],
    last_step: Callable[[], T],
    on_holding: Callable[[], None],
) -> tuple[T, float]:
    """Hold, point the target file at ``to_url``, replace the workers, run ``last_step`` once
    no old worker is left, lift the hold. On failure the app moves back where it was, and the
    workers that held requests leave before the hold is lifted: none of them ever serves
    one."""
    target_file = Path(settings.DATABASE_TARGET_PATH)
    try:
        previous = target_file.read_text().strip()
    except FileNotFoundError:
        previous = None
    maintenance.hold_requests(to_database)
    started = time.monotonic()
    try:
        write_target(target_file, to_url)
        on_holding()
        try:
            server.replace_workers()
        except gunicorn_control.ServerReloadFailed as exc:
            raise CopyFailed(str(exc)) from None
        result = last_step()
    except BaseException as failure:
        _move_back(server, target_file, previous, failure)
        raise
    maintenance.release_requests()
    return result, time.monotonic() - started


def _move_back(server, target_file: Path, previous: str | None, failure: BaseException) -> None:
    if previous is None:
        remove_target(target_file)
    else:
        write_target(target_file, previous)
    try:
        server.reload()
    except gunicorn_control.ServerReloadFailed as exc:
        raise MoveStuck(
            f"{failure}; moving the app back failed too ({exc}): requests stay held (refused "
            f"past CUTOVER_HOLD_SECONDS) until {maintenance.hold_path()} is removed, which is "
            f"safe once gunicorn (pid {server.master}) serves with new workers only"
        ) from None
    maintenance.release_requests()


def switch_to_postgres(
    path: Path | str,
    *,
    progress: Progress | None = None,
    on_round: Callable[[CatchUpReport], None] = lambda report: None,
    on_verified: Callable[[CatchUpReport], None] = lambda report: None,
    on_holding: Callable[[], None] = lambda: None,
) -> ForwardReport:
    """The cutover's catch-ups while the app writes to ``path``, then the move to the
    configured PostgreSQL database with the final replay as its last step."""
    server = running_server()
    postgres.target()
    url = settings.DATABASE_TARGET.url
    if url is None:
        raise CopyRefused("--switch needs DATABASE_URL naming the PostgreSQL database")
    source = {"vendor": "sqlite", "name": str(Path(path).resolve())}
    check_followers(server, serving=source)
    with prepare(path) as plan:
        rounds, verification = catch_up_while_writing(
            plan, progress=progress, on_round=on_round, on_verified=on_verified
        )
        final, held = _move(
            server,
            to_url=url,
            to_database=maintenance.served_database(),
            last_step=lambda: final_replay(plan, progress=progress),
            on_holding=on_holding,
        )
    return ForwardReport(server.master, held, rounds, verification, final)


def _catch_up_back_until_settled(path: Path, mark: str, on_round) -> tuple[list[BackRound], str]:
    rounds: list[BackRound] = []
    for _ in range(MAX_ROUNDS):
        report = catch_up_back(path, since=mark)
        rounds.append(report)
        on_round(report)
        mark = report.mark
        if report.changed_keys <= SETTLED_ROWS:
            break
    return rounds, mark


def final_replay_back(path: Path, *, since: str) -> BackRound:
    """The way back's last catch-up, once nothing writes PostgreSQL any more, and the same
    rule as the way there for a change that comes after it: the move fails."""
    final = catch_up_back(path, since=since)
    late = pg_capture.changes_since(postgres.target(), final.mark)
    if late:
        raise CopyFailed(
            f"{late} change(s) reached PostgreSQL after the last catch-up (a request or a "
            "process still writing it); run the move again"
        )
    return final


def switch_to_sqlite(
    path: Path | str,
    *,
    progress: Progress | None = None,
    on_round: Callable[[BackRound], None] = lambda report: None,
    on_holding: Callable[[], None] = lambda: None,
) -> BackReport:
    """The way back: a new SQLite file at ``path`` with the schema; PostgreSQL's changes
    captured, every row copied from one snapshot and verified, and the changes since caught up,
    all while the app writes PostgreSQL; then the move to the file with the final catch-up
    (once no worker writes PostgreSQL any more) as its last step."""
    server = running_server()
    connection = postgres.target()
    check_followers(server, serving=maintenance.served_database())
    path = Path(path).absolute()
    create_rollback_file(path, progress=progress)
    try:
        with pg_capture.capturing(connection, copied_tables()):
            copy = fill_rollback_file(path, progress=progress)
            assert isinstance(copy.mark, str)
            rounds, mark = _catch_up_back_until_settled(path, copy.mark, on_round)
            final, held = _move(
                server,
                to_url=sqlite_url(path),
                to_database={"vendor": "sqlite", "name": str(path.resolve())},
                last_step=lambda: final_replay_back(path, since=mark),
                on_holding=on_holding,
            )
    except MoveStuck:
        raise  # the file may be served: it stays
    except BaseException:
        remove_rollback_file(path)
        raise
    return BackReport(server.master, held, copy, rounds, final)
