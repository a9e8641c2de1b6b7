"""Reading the project's Markdown pages: their fenced blocks and the command lines in them."""

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHELL_LANGUAGES = ("sh", "bash", "shell")
FENCE = re.compile(r"^```(\w*)\s*$")


def doc_pages() -> list[Path]:
    """README.md and every page in docs/."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


@dataclass(frozen=True)
class Block:
    page: Path
    line: int  # of the opening fence, 1-based
    language: str
    text: str

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def blocks(page: Path, language: str | tuple[str, ...] | None = None) -> list[Block]:
    """The fenced blocks of a page, those of ``language`` only when it is given."""
    wanted = (language,) if isinstance(language, str) else language
    found: list[Block] = []
    opened: tuple[int, str] | None = None  # (line, language) of the open fence
    lines: list[str] = []
    for number, line in enumerate(page.read_text().splitlines(), start=1):
        fence = FENCE.match(line.strip())
        if opened is None and fence:
            opened, lines = (number, fence.group(1)), []
        elif opened is not None and line.strip() == "```":
            if wanted is None or opened[1] in wanted:
                found.append(Block(page, opened[0], opened[1], "\n".join(lines) + "\n"))
            opened = None
        elif opened is not None:
            lines.append(line)
    return found


def shell_blocks() -> list[Block]:
    return [block for page in doc_pages() for block in blocks(page, SHELL_LANGUAGES)]


def strip_comment(line: str) -> str:
    """The line without a trailing ``# ...`` comment (a ``#`` outside quotes, after a space or
    at the start), as the shell reads it."""
    quote = None
    for i, char in enumerate(line):
        if quote:
            if char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i].rstrip()
    return line.rstrip()


def commands(text: str) -> list[str]:
    """The command lines of a shell block: comments and blank lines dropped, lines ending in a
    backslash joined with the next one, whitespace runs made single spaces."""
    found, pending = [], ""
    for raw in text.splitlines():
        line = strip_comment(raw)
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = " ".join((pending + line).split())
        pending = ""
        if line:
            found.append(line)
    return found


def shell_commands() -> list[tuple[str, str]]:
    """Every command line shown in the docs, with where it is shown."""
    return [(command, block.where) for block in shell_blocks() for command in commands(block.text)]


def block_holding(page: str, needle: str, language=SHELL_LANGUAGES) -> Block:
    """The one block of ``page`` (relative to the project root) that contains ``needle``."""
    matching = [b for b in blocks(ROOT / page, language) if needle in b.text]
    assert len(matching) == 1, f"{page}: {len(matching)} blocks hold {needle!r}"
    return matching[0]
