"""The import contracts of pyproject.toml (``lint-imports``, run by ``make test``) hold for the
tree, and break as soon as an app imports one above it."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = [
    "config",
    "ops",
    "accounts",
    "idempotency",
    "tokens",
    "journal",
    "subscriptions",
    "dbcopy",
]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def lint_imports(tree: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(tree / "pyproject.toml"), "--no-cache"],
        cwd=tree,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(tree)},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def tree(tmp_path):
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("*.pyc"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    return tmp_path


def plant(tree: Path, module: str, line: str) -> None:
    path = tree / module
    path.write_text(path.read_text() + f"\n{line}\n")


def test_the_tree_keeps_every_contract(tree):
    result = lint_imports(tree)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "broken" not in result.stdout.lower().replace("0 broken", "")


@pytest.mark.parametrize(
    ("module", "line", "named"),
    [
        ("accounts/models.py", "import tokens.models  # noqa", "tokens.models"),
        ("ops/health.py", "from journal import selectors  # noqa", "journal.selectors"),
        ("subscriptions/services.py", "import journal.services  # noqa", "journal.services"),
        ("tokens/api.py", "import config.urls  # noqa", "config.urls"),
        ("ops/pooler.py", "from config.database import database_config  # noqa", "config.database"),
        ("dbcopy/plan.py", "import config.target  # noqa", "config.target"),
        ("journal/services.py", "from config import settings  # noqa", "config.settings"),
    ],
)
def test_an_import_against_the_layers_breaks_a_contract(tree, module, line, named):
    plant(tree, module, line)

    result = lint_imports(tree)

    assert result.returncode != 0
    assert "BROKEN" in result.stdout
    assert named in result.stdout
