"""Progress of a long copy: a bar on a terminal, plain lines otherwise."""

import time


class Progress:
    def table_started(self, table: str, total: int) -> None: ...

    def rows(self, table: str, done: int, total: int) -> None: ...

    def table_done(self, table: str) -> None: ...

    def message(self, text: str) -> None: ...


class SilentProgress(Progress):
    pass


class StreamProgress(Progress):
    """Per table: rows done of total and rows per second. On a terminal the line redraws in
    place as a bar; otherwise a line every few seconds and one when the table is done."""

    BAR = 24

    def __init__(self, stream, *, is_tty: bool, interval: float | None = None):
        self.stream = stream
        self.is_tty = is_tty
        self.interval = interval if interval is not None else (0.2 if is_tty else 5.0)
        self._table = None
        self._started = 0.0
        self._last = 0.0
        self._done = 0
        self._total = 0

    def _line(self) -> str:
        elapsed = max(time.monotonic() - self._started, 1e-9)
        rate = self._done / elapsed
        total = max(self._total, 1)
        share = min(self._done / total, 1.0) if self._total else 1.0
        if self.is_tty:
            filled = int(share * self.BAR)
            bar = "[" + "#" * filled + "." * (self.BAR - filled) + "] "
        else:
            bar = ""
        return (
            f"{self._table:<34} {bar}{self._done:>10,}/{self._total:,} rows "
            f"{share:>4.0%}  {rate:>10,.0f} rows/s"
        )

    def _write(self, final: bool) -> None:
        if self.is_tty:
            self.stream.write("\r" + self._line() + ("\n" if final else ""))
        else:
            self.stream.write(self._line() + "\n")
        self.stream.flush()

    def table_started(self, table, total):
        self._table, self._total, self._done = table, total, 0
        self._started = self._last = time.monotonic()

    def rows(self, table, done, total):
        self._done = done
        now = time.monotonic()
        if now - self._last >= self.interval:
            self._last = now
            self._write(final=False)

    def table_done(self, table):
        self._write(final=True)

    def message(self, text):
        self.stream.write(text + "\n")
        self.stream.flush()
