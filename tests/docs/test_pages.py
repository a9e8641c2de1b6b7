"""The pages hang together: README is short and links every page of docs/, every link and
anchor resolves, and the configuration table names every variable the code reads, with the
code's defaults."""

import ast
import re

import pytest

from tests.docs.markdown import ROOT, doc_pages

LINK = re.compile(r"\]\(([^)\s]+)\)")
README_MAX_BYTES = 12 * 1024


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading."""
    text = re.sub(r"[`*_]", "", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(page) -> set[str]:
    return {
        slug(line.lstrip("#")) for line in page.read_text().splitlines() if line.startswith("#")
    }


def test_readme_is_a_front_page_that_links_every_page_of_docs():
    readme = (ROOT / "README.md").read_text()
    linked = set(LINK.findall(readme))

    assert len(readme.encode()) < README_MAX_BYTES
    assert readme.split("\n```sh\n", 1)[1].startswith("make run ")
    assert (
        sorted(p.name for p in (ROOT / "docs").glob("*.md") if f"docs/{p.name}" not in linked) == []
    )


@pytest.mark.parametrize("page", doc_pages(), ids=lambda p: p.name)
def test_every_link_and_anchor_resolves(page):
    broken = []
    for target in LINK.findall(page.read_text()):
        if target.startswith(("http://", "https://")):
            continue
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        if not linked.exists() or (anchor and anchor not in anchors(linked)):
            broken.append(target)

    assert broken == []


def config_reads() -> dict[str, list]:
    """Every variable config/ reads through config.env, with the defaults given in the code."""
    found: dict[str, list] = {}
    for module in sorted((ROOT / "config").glob("*.py")):
        for node in ast.walk(ast.parse(module.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id.startswith("env_")
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                default = node.args[1] if len(node.args) > 1 else None
                literal = default.value if isinstance(default, ast.Constant) else None
                found.setdefault(node.args[0].value, []).append(literal)
    return found


def readme_configuration_rows() -> dict[str, str]:
    """Variable → its default cell, from README's configuration table."""
    readme = (ROOT / "README.md").read_text()
    table = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    rows: dict[str, str] = {}
    for line in table.splitlines():
        if not line.startswith("| `"):
            continue
        names_cell, default_cell = line.split(" | ")[:2]
        names = re.findall(r"`([A-Z][A-Z0-9_]*)`", names_cell)
        defaults = default_cell.split(", ") if len(names) > 1 else [default_cell]
        assert len(defaults) == len(names), line
        rows.update(zip(names, defaults, strict=True))
    return rows


def shown(value) -> str:
    return {True: "1", False: "0"}.get(value, str(value)) if isinstance(value, bool) else str(value)


def test_the_configuration_table_names_every_variable_the_code_reads():
    reads, rows = config_reads(), readme_configuration_rows()

    assert sorted(set(reads) - set(rows)) == [], "read by config/ but not in README"
    assert sorted(set(rows) - set(reads)) == [], "in README but read by nothing in config/"


def test_the_configuration_table_gives_the_code_defaults():
    rows = readme_configuration_rows()
    wrong = []
    for name, defaults in config_reads().items():
        for default in defaults:
            if default is not None and rows[name].strip("`").lower() != shown(default).lower():
                wrong.append(f"{name}: README {rows[name]}, code {default!r}")

    assert wrong == []


def test_the_test_run_variables_named_in_readme_are_read_by_the_test_run():
    readme = (ROOT / "README.md").read_text()
    paragraph = readme.split("`make test` also reads", 1)[1].split("\n\n", 1)[0]
    runners = "".join((ROOT / p).read_text() for p in ("Makefile", ".ci/run", "tests/conftest.py"))

    named = re.findall(r"`([A-Z][A-Z0-9_]*)`", paragraph)

    assert named and [name for name in named if name not in runners] == []


PROJECT_PATH = re.compile(
    r"`((?:config|ops|accounts|tokens|journal|subscriptions|dbcopy|bench|scripts|tests|docs|\.ci)"
    r"/[\w./-]*)"
)
MAKE_TARGET = re.compile(r"`make ([a-z][\w-]*)")


@pytest.mark.parametrize("page", doc_pages(), ids=lambda p: p.name)
def test_every_project_file_and_make_target_named_exists(page):
    # Files and folders (`bench/copy.py`, `dbcopy/`); API paths (`journal/export`) are not.
    text = page.read_text()
    targets = set(re.findall(r"^([a-z][\w-]*):", (ROOT / "Makefile").read_text(), re.M))

    files = [p for p in PROJECT_PATH.findall(text) if re.search(r"(/|\.\w+|^\.ci/.*)$", p)]
    missing = [p for p in files if not (ROOT / p).exists()]
    missing += [f"make {t}" for t in MAKE_TARGET.findall(text) if t not in targets]

    assert missing == []
