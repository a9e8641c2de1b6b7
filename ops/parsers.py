"""Reading JSON bodies within the limits the API promises (CONTRACT: any body the API cannot
read is a 400, never a 500).

A body is unreadable when it is not JSON, when it nests deeper than ``MAX_DEPTH`` (past its
own recursion limit the decoder raises RecursionError, and a body nested a little less deep
than that still breaks whatever encodes it again, such as a JSONField), when it holds a number
that neither a 64-bit column nor a float can hold, or text the databases cannot store
(``ops.text``), wherever it sits: object keys and fields no serializer reads included.
"""

import json
import math
from collections.abc import Iterable
from typing import Any

from rest_framework import parsers
from rest_framework.exceptions import ParseError
from rest_framework.utils.json import strict_constant

from ops.text import is_storable_text

MAX_DEPTH = 64
MAX_INTEGER = 2**63 - 1
MIN_INTEGER = -(2**63)
TOO_DEEP = f"nested more than {MAX_DEPTH} levels deep"


class UnreadableJSON(ValueError):
    """A JSON body the API does not read; the message is safe to show to the client."""


def _unstorable_reason(text: str) -> str:
    if "\x00" in text:
        return "text holds a NUL character (\\u0000)"
    return "text holds a lone surrogate (an unpaired \\ud800-\\udfff escape)"


def _check_scalar(item) -> None:
    if isinstance(item, str):
        if not is_storable_text(item):
            raise UnreadableJSON(_unstorable_reason(item))
    elif type(item) is int:  # not bool
        if not MIN_INTEGER <= item <= MAX_INTEGER:
            raise UnreadableJSON("integer out of range (past 64 bits)")
    elif type(item) is float and not math.isfinite(item):
        raise UnreadableJSON("number out of range")


def check_json_value(value) -> None:
    """Raise ``UnreadableJSON`` if a decoded JSON value breaks one of the limits above."""
    _check_scalar(value)
    # Level by level: the containers at each depth, so the depth is counted once per level.
    level = [value] if isinstance(value, dict | list) else []
    depth = 1
    while level:
        if depth > MAX_DEPTH:
            raise UnreadableJSON(TOO_DEEP)
        deeper = []
        for container in level:
            items: Iterable[Any] = container
            if isinstance(container, dict):
                for key in container:
                    _check_scalar(key)
                items = container.values()
            for item in items:
                if isinstance(item, dict | list):
                    deeper.append(item)
                else:
                    _check_scalar(item)
        level = deeper
        depth += 1


def load_json(data: bytes | str):
    """Decode a JSON document and check it with ``check_json_value``; ``UnreadableJSON`` if
    it cannot be read."""
    try:
        value = json.loads(data, parse_constant=strict_constant)
    except RecursionError:
        raise UnreadableJSON(TOO_DEEP) from None
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise UnreadableJSON(str(exc)) from None
    check_json_value(value)
    return value


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, with the limits of ``check_json_value``: an unreadable body is a
    ParseError (400) like any malformed one."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            try:
                data = super().parse(stream, media_type, parser_context)
            except RecursionError:
                raise UnreadableJSON(TOO_DEEP) from None
            check_json_value(data)
        except UnreadableJSON as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
        return data
