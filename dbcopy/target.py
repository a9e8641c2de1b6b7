"""Writing the database target file (``DATABASE_TARGET_PATH``), which the settings read
(``config.target``): the switches point the app at the database a move has just filled."""

import os
import tempfile
from pathlib import Path

SQLITE_SCHEME = "sqlite:///"


def sqlite_url(path: Path) -> str:
    """``sqlite:////abs/path``: the target URL of a SQLite file."""
    return SQLITE_SCHEME + str(Path(path).resolve())


def write_target(target_path: Path, url: str) -> None:
    """Replace the file at once (a worker starting meanwhile reads the old or the new URL,
    never half of one), owner-only since the URL may carry a password."""
    target_path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=target_path.parent, prefix=f".{target_path.name}.")
    try:
        with os.fdopen(fd, "w") as file:  # mkstemp makes it 0600
            file.write(url + "\n")
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, target_path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def remove_target(target_path: Path) -> None:
    target_path.unlink(missing_ok=True)
