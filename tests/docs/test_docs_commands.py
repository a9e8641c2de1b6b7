"""Every command the docs show is run somewhere: by a test, a script or the Makefile.

``RUN_BY`` maps each command line of every ```sh block in README.md and docs/*.md to the file
that runs it and what that file (or the named test in it) must contain for the claim to hold.
A command shown in the docs and missing here fails the suite, and so does an entry whose file
does not hold the command any more. The commands cheap enough to run here are run by
``test_examples.py`` and ``test_runbook.py`` straight from the Markdown.
"""

import ast
import re
import subprocess
import sys
from dataclasses import dataclass

import pytest
from django.core.management import get_commands, load_command_class

from tests.docs.markdown import ROOT, block_holding, doc_pages, shell_commands


@dataclass(frozen=True)
class RunBy:
    path: str  # relative to the project root
    needles: tuple[str, ...]  # what the file, or its test function, must contain
    test: str | None = None  # a test function in ``path`` that runs the command


MAKEFILE_RUN = RunBy("Makefile", ("run: install", "manage.py migrate", "manage.py runserver"))
MAKEFILE_SERVE = RunBy(
    "Makefile",
    ("serve: install", "manage.py collectstatic --noinput", "manage.py migrate", "gunicorn -c"),
)
CI_MAKE_TEST = RunBy(".ci/run", ("make test",))
TOKEN_EXAMPLE = RunBy(
    "tests/docs/test_examples.py",
    ("README.md", '"run", "serve"'),
    test="test_the_readme_token_command_as_written_is_accepted_by_make_run_and_make_serve",
)
DEPLOY_CHECK = RunBy(
    "tests/docs/test_examples.py",
    ("docs/operations.md",),
    test="test_the_production_environment_passes_the_deploy_check",
)
WEBHOOK_EXAMPLE = RunBy(
    "tests/docs/test_examples.py",
    ("docs/security.md",),
    test="test_the_webhook_signing_example_is_accepted",
)
RUNBOOK = RunBy(
    "tests/docs/test_runbook.py",
    ("docs/runbook.md", "--cutover", "copy_to_sqlite", "install.run(line)", "install.serve("),
    test="test_the_runbook_and_its_rollback_run_as_written_on_a_make_serve_install",
)


def bench(script: str, *options: str) -> RunBy:
    """A benchmark is its own script (too long for the suite); the options the docs show are
    checked against its ``--help`` by ``test_bench_scripts_take_the_options_the_docs_show``."""
    return RunBy(f"bench/{script}", options)


RUN_BY = {
    # README.md
    "make run": MAKEFILE_RUN,
    "make test": CI_MAKE_TEST,
    ".venv/bin/python manage.py issue_tokens --provider google --subject me": TOKEN_EXAMPLE,
    'curl -H "Authorization: Bearer <access>" http://127.0.0.1:8000/api/v1/me': TOKEN_EXAMPLE,
    # docs/benchmarks.md
    ".venv/bin/python bench/api.py [--seconds 10] [--rounds 3] [--connections 4] "
    "[--legs sqlite,postgres] [--pg postgresql://postgres@127.0.0.1:5432]": bench(
        "api.py", "--seconds", "--rounds", "--connections", "--legs", "--pg"
    ),
    ".venv/bin/python bench/quota.py [--small 10] [--large 100000] [--requests 300] "
    "[--warm-up 20] [--legs sqlite,postgres] [--pg postgresql://postgres@127.0.0.1:5432]": bench(
        "quota.py", "--small", "--large", "--requests", "--warm-up", "--legs", "--pg"
    ),
    ".venv/bin/python bench/copy.py [--users 100000] [--entries 1000000] [--tokens 200000] "
    "[--subscriptions 50000] [--writes-per-second 200] [--runs 3] [--switch] [--skip-pgloader] "
    "[--skip-dumpdata] [--skip-online]": bench(
        "copy.py", "--users", "--entries", "--runs", "--switch", "--skip-pgloader"
    ),
    # docs/operations.md
    "make serve": MAKEFILE_SERVE,
    "python manage.py collectstatic --noinput": MAKEFILE_SERVE,
    "python manage.py migrate": MAKEFILE_SERVE,
    "gunicorn -c config/gunicorn.conf.py config.wsgi": RunBy(
        "tests/ops/test_serving.py", ('"gunicorn", "-c", "config/gunicorn.conf.py", "config.wsgi"',)
    ),
    "export DEBUG=0 HTTPS=1 NUM_PROXIES=1 ALLOWED_HOSTS=api.example.com": DEPLOY_CHECK,
    "export SECRET_KEY=\"$(python -c 'import secrets; print(secrets.token_urlsafe(50))')\"": (
        DEPLOY_CHECK
    ),
    "export DATABASE_URL=postgres://app:secret@db.internal:5432/journal": DEPLOY_CHECK,
    "python manage.py check --deploy": DEPLOY_CHECK,
    ".ci/run": RunBy(".ci/run", ("#!/usr/bin/env bash", "make test")),  # CI's entry point
    # docs/runbook.md
    "export PG=postgres://app:secret@db.internal:5432/journal": RUNBOOK,
    "DATABASE_URL=$PG python manage.py migrate": RUNBOOK,
    "DATABASE_URL=$PG python manage.py copy_from_sqlite data/db.sqlite3 --check": RUNBOOK,
    "DATABASE_URL=$PG python manage.py copy_from_sqlite data/db.sqlite3 --capture": RUNBOOK,
    "DATABASE_URL=$PG python manage.py copy_from_sqlite data/db.sqlite3 --catch-up": RUNBOOK,
    "DATABASE_URL=$PG python manage.py copy_from_sqlite data/db.sqlite3 --cutover": RUNBOOK,
    "curl -fsS http://127.0.0.1:8000/readyz": RUNBOOK,
    "python manage.py maintenance off": RUNBOOK,
    "python manage.py copy_from_sqlite data/db.sqlite3 --stop-capture": RUNBOOK,
    "python manage.py maintenance on": RUNBOOK,
    "DATABASE_URL=$PG python manage.py copy_to_sqlite data/rollback.sqlite3": RUNBOOK,
    # docs/security.md
    "SECRET=whsec_example_0123456789": WEBHOOK_EXAMPLE,
    "body='"
    '{"id":"evt_123","type":"subscription.updated","created":1767225600,"provider":"stripe",'
    '"user_id":"<user UUID>","subscription":{"id":"sub_9","plan":"premium_monthly",'
    '"status":"active","current_period_end":"2027-01-01T00:00:00Z"}}'
    "'": WEBHOOK_EXAMPLE,
    "t=$(date +%s)": WEBHOOK_EXAMPLE,
    'sig=$(printf \'%s.%s\' "$t" "$body" | openssl dgst -sha256 -hmac "$SECRET" -r '
    "| cut -d' ' -f1)": WEBHOOK_EXAMPLE,
    "curl -X POST http://127.0.0.1:8000/api/v1/subscriptions/webhook "
    '-H "Content-Type: application/json" -H "X-Webhook-Signature: t=$t,v1=$sig" '
    '--data-raw "$body"': WEBHOOK_EXAMPLE,
}


def test_every_command_the_docs_show_is_run_by_a_test_or_a_script():
    shown = shell_commands()

    unregistered = [f"{where}: {command}" for command, where in shown if command not in RUN_BY]

    assert not unregistered, "commands no test or script runs:\n" + "\n".join(unregistered)


def test_every_registered_command_is_still_shown_in_the_docs():
    shown = {command for command, _ in shell_commands()}

    assert sorted(set(RUN_BY) - shown) == []


def function_source(path, name) -> str:
    text = (ROOT / path).read_text()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.FunctionDef) and node.name == name:
            segment = ast.get_source_segment(text, node)
            assert segment is not None
            return segment
    raise AssertionError(f"{path} has no function {name}")


@pytest.mark.parametrize("command", sorted(RUN_BY))
def test_the_file_named_for_a_command_holds_it(command):
    run_by = RUN_BY[command]
    path = ROOT / run_by.path
    assert path.is_file(), f"{run_by.path} does not exist"
    text = function_source(run_by.path, run_by.test) if run_by.test else path.read_text()

    missing = [needle for needle in run_by.needles if needle not in text]

    assert not missing, f"{run_by.path} {run_by.test or ''} lacks {missing}"


MANAGE_PY = re.compile(r"manage\.py ([a-z_]+)([^`\n|]*)")


def manage_py_mentions():
    """Every ``manage.py NAME --option ...`` in the docs, in code spans, tables or blocks."""
    for page in doc_pages():
        for match in MANAGE_PY.finditer(page.read_text()):
            options = re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", match.group(2))
            yield page.relative_to(ROOT), match.group(1), options


def test_every_manage_py_command_in_the_docs_exists_with_the_options_shown():
    commands = get_commands()
    wrong = []
    for page, name, options in manage_py_mentions():
        if name not in commands:
            wrong.append(f"{page}: no command {name}")
            continue
        parser = load_command_class(commands[name], name).create_parser("manage.py", name)
        known = parser._option_string_actions
        wrong += [f"{page}: {name} has no {option}" for option in options if option not in known]

    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("script", ["api.py", "quota.py", "copy.py"])
def test_bench_scripts_take_the_options_the_docs_show(script):
    shown = [c for c, _ in shell_commands() if f"bench/{script}" in c]
    assert shown, f"the docs show no command line of bench/{script}"
    options = {o for line in shown for o in re.findall(r"\[(--[a-z-]+)", line)}

    help_text = subprocess.run(
        [sys.executable, f"bench/{script}", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout

    assert sorted(o for o in options if o not in help_text) == []


def test_the_pgbouncer_configuration_shown_is_the_one_ci_runs():
    shown = block_holding("docs/operations.md", "pool_mode", language="ini").text
    ci = (ROOT / ".ci/run").read_text()
    ci_settings = dict(re.findall(r"^(\w+) = (.*)$", ci, flags=re.MULTILINE))

    for line in shown.splitlines():
        line = line.split(";")[0].strip()
        if not line or line.startswith("["):
            assert line in ("", "[databases]", "[pgbouncer]")
            continue
        if line.startswith("* ="):
            assert line in ci.splitlines()
            continue
        key, value = (part.strip() for part in line.split("=", 1))
        assert key in ci_settings, f".ci/run sets no {key}"
        if "$" not in ci_settings[key]:  # a port or a directory of the run's own
            assert ci_settings[key] == value, key
