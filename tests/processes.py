"""Running ``manage.py`` as an operator or cron does: a process of its own, with only the
environment given (and a PATH), from the project's root."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_manage(*args, env: dict, timeout: int = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        # Not this checkout's .env: a command's environment is what the test gives it.
        env={"PATH": "/usr/bin:/bin", "ENV_FILE": os.devnull, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
