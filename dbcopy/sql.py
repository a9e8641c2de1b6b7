"""Quoting for the SQL the copy writes: names from the models' metadata, literals of its own
messages. Values always go as parameters."""


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
