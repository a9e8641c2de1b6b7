"""Print this checkout's SECRET_KEY for `make serve`, making it once in data/ (mode 600).

Only for serving the production setup locally; a real deployment sets SECRET_KEY itself.
"""

import secrets
import sys
from pathlib import Path

KEY_FILE = Path(__file__).resolve().parent.parent / "data" / "local-secret-key"


def main() -> int:
    if not KEY_FILE.exists():
        KEY_FILE.parent.mkdir(parents=True, exist_ok=True)
        KEY_FILE.touch(mode=0o600)
        KEY_FILE.write_text(secrets.token_urlsafe(50) + "\n")
    print(KEY_FILE.read_text().strip())
    return 0


if __name__ == "__main__":
    sys.exit(main())
