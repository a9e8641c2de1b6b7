"""Progress of a long copy, on the command's stderr: per step (a table's rows, the rebuild's
statements, the verification's tables) a bar with the rate and the time left, redrawn in
place on a terminal; plain lines otherwise (or with --no-progress), every few seconds and
one when the step is done."""

import time


def _plain(text: str) -> str:
    return text


class Progress:
    """What the copy reports; this base reports nothing."""

    def start(self, label: str, total: int, unit: str = "rows") -> None: ...

    def update(self, done: int) -> None: ...

    def finish(self) -> None: ...

    def message(self, text: str) -> None: ...

    # A table's rows: what the copy's loops call.
    def table_started(self, table: str, total: int) -> None:
        self.start(table, total, "rows")

    def rows(self, table: str, done: int, total: int) -> None:
        self.update(done)

    def table_done(self, table: str) -> None:
        self.finish()


class SilentProgress(Progress):
    pass


def _duration(seconds: float) -> str:
    seconds = int(seconds + 0.5)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02}:{seconds:02}" if hours else f"{minutes}:{seconds:02}"


class StreamProgress(Progress):
    """Draws on a Django ``OutputWrapper`` (a command's ``stderr``): ``ending=""`` so a redraw
    adds no newline, and no style (stderr is red on a terminal)."""

    BAR = 24

    def __init__(self, stream, *, is_tty: bool, interval: float | None = None):
        self.stream = stream
        self.is_tty = is_tty
        self.interval = interval if interval is not None else (0.2 if is_tty else 5.0)
        self._label = ""
        self._unit = "rows"
        self._started = 0.0
        self._last = 0.0
        self._done = 0
        self._total = 0
        self._drawn = 0  # width of the line on screen, to wipe what a shorter one leaves

    def _line(self, *, final: bool) -> str:
        elapsed = max(time.monotonic() - self._started, 1e-9)
        rate = self._done / elapsed
        share = min(self._done / self._total, 1.0) if self._total else 1.0
        if final:
            tail = f"in {_duration(elapsed)}"
        elif rate > 0:
            tail = f"ETA {_duration(max(self._total - self._done, 0) / rate)}"
        else:
            tail = "ETA -:--"
        bar = ""
        if self.is_tty:
            filled = int(share * self.BAR)
            bar = "[" + "#" * filled + "." * (self.BAR - filled) + "] "
        unit = self._unit
        return (
            f"{self._label:<34} {bar}{self._done:>10,}/{self._total:,} {unit} "
            f"{share:>4.0%}  {rate:>10,.0f} {unit}/s  {tail}"
        )

    def _write(self, text: str) -> None:
        self.stream.write(text, style_func=_plain, ending="")
        self.stream.flush()

    def _draw(self, *, final: bool) -> None:
        line = self._line(final=final)
        if self.is_tty:
            padding = " " * max(self._drawn - len(line), 0)
            self._drawn = 0 if final else len(line)
            self._write("\r" + line + padding + ("\n" if final else ""))
        else:
            self._write(line + "\n")

    def start(self, label, total, unit="rows"):
        self._label, self._total, self._done, self._unit = label, total, 0, unit
        self._started = self._last = time.monotonic()
        if self.is_tty:
            self._draw(final=False)

    def update(self, done):
        self._done = done
        now = time.monotonic()
        if now - self._last >= self.interval:
            self._last = now
            self._draw(final=False)

    def finish(self):
        self._draw(final=True)

    def message(self, text):
        self._write(text + "\n")
