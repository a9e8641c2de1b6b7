"""Make this checkout's .env once, for `make run` and `make serve`: the settings every entry
point then reads (manage.py by hand, runserver, gunicorn), so that a token issued by
`manage.py issue_tokens` is accepted by either server. An existing .env is left as it is.

Only for running the app on this machine; a real deployment sets its environment itself.
"""

import os
import secrets
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The file the settings read (config.env.load_env_file): ENV_FILE, else .env, from the root.
ENV_FILE = ROOT / (os.environ.get("ENV_FILE") or ".env")
# Where `make serve` kept its key before there was a .env.
OLD_KEY_FILE = ROOT / "data" / "local-secret-key"

TEMPLATE = """\
# This checkout's settings (README.md lists every variable). manage.py, runserver and
# gunicorn read them from here; a variable set in the environment wins over this file.
SECRET_KEY={secret_key}
"""


def main() -> int:
    if ENV_FILE.exists():
        return 0
    if OLD_KEY_FILE.exists():
        secret_key = OLD_KEY_FILE.read_text().strip()
    else:
        secret_key = secrets.token_urlsafe(50)
    ENV_FILE.touch(mode=0o600)
    ENV_FILE.write_text(TEMPLATE.format(secret_key=secret_key))
    print(f"wrote {ENV_FILE} (this checkout's SECRET_KEY)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
