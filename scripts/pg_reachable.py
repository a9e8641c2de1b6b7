"""Exit 0 if the PostgreSQL server of a database URL answers, 1 with the reason otherwise.

It connects to the server's ``postgres`` database: the test run creates its own database.
"""

import sys

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo


def main(url: str) -> int:
    try:
        params = conninfo_to_dict(url)
        psycopg.connect(
            make_conninfo("", **{**params, "dbname": "postgres"}), connect_timeout=3
        ).close()
    except (psycopg.Error, ValueError) as exc:
        print(f"PostgreSQL unreachable: {str(exc).strip().splitlines()[0]}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
