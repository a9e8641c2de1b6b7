"""The database target file: which database the app serves from when ``DATABASE_URL`` is unset.

``copy_from_sqlite PATH --cutover --switch`` writes PostgreSQL's URL there and reloads
gunicorn's workers, which read it when they import the settings; ``copy_to_sqlite PATH
--switch`` writes a ``sqlite:///`` URL naming the rollback file. Precedence: ``DATABASE_URL``
set always wins; else the file, when it exists; else SQLite at ``SQLITE_PATH``. The file holds
one URL (maybe with a password): it is written atomically and readable by its owner only
(``dbcopy.target``).
"""

from dataclasses import dataclass
from pathlib import Path

import dj_database_url

from config.env import ConfigError
from dbcopy.target import SQLITE_SCHEME

POSTGRES_SCHEMES = ("postgres://", "postgresql://")
DEFAULT_TARGET_PATH = "data/database_target"


def target_path(value: str | None, *, base_dir: Path) -> Path:
    """The file ``DATABASE_TARGET_PATH`` names (``value``; unset: the default), a relative
    path taken from ``base_dir``."""
    path = Path(value.strip() if value and value.strip() else DEFAULT_TARGET_PATH)
    return path if path.is_absolute() else base_dir / path


@dataclass(frozen=True)
class DatabaseTarget:
    url: str | None  # PostgreSQL's URL; None: SQLite at sqlite_path
    sqlite_path: Path
    source: str  # what chose it: "DATABASE_URL", the target file's path, or "SQLITE_PATH"


def database_target(
    url: str | None, *, target_path: Path, sqlite_path: Path, base_dir: Path
) -> DatabaseTarget:
    if url is not None:
        return DatabaseTarget(url, sqlite_path, "DATABASE_URL")
    try:
        text = target_path.read_text()
    except FileNotFoundError:
        return DatabaseTarget(None, sqlite_path, "SQLITE_PATH")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"the database target file {target_path} is unreadable: {exc}") from None
    return parse_target(text, target_path=target_path, sqlite_path=sqlite_path, base_dir=base_dir)


def parse_target(
    text: str, *, target_path: Path, sqlite_path: Path, base_dir: Path
) -> DatabaseTarget:
    """A relative sqlite:/// path is taken from ``base_dir``, like ``SQLITE_PATH``."""
    value = text.strip()
    where = f"the database target file {target_path}"
    if not value or "\n" in value:
        raise ConfigError(f"{where} must hold one database URL")
    if value.startswith(POSTGRES_SCHEMES):
        try:
            name = dj_database_url.parse(value).get("NAME")
        except ValueError as exc:
            raise ConfigError(f"{where} holds no database URL: {exc}") from None
        if not name:
            raise ConfigError(f"{where} must name a database (postgres://host/NAME)")
        return DatabaseTarget(value, sqlite_path, str(target_path))
    if value.startswith(SQLITE_SCHEME) and len(value) > len(SQLITE_SCHEME):
        path = Path(value.removeprefix(SQLITE_SCHEME))
        if not path.is_absolute():
            path = base_dir / path
        return DatabaseTarget(None, path, str(target_path))
    raise ConfigError(f"{where} must hold a postgres:// or sqlite:/// URL")
