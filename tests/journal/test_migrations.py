import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from journal.models import JournalUsage

BEFORE = [("journal", "0001_initial")]


@pytest.mark.django_db(transaction=True)
def test_the_usage_migration_counts_the_entries_already_stored():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    users = [
        old.get_model("accounts", "User").objects.create(
            provider="google", provider_subject=f"before-{n}", password="!"
        )
        for n in range(3)
    ]
    entries = old.get_model("journal", "JournalEntry").objects
    for size in (3, 5, 7):
        entries.create(user_id=users[0].pk, content="x" * size, size_bytes=size)
    entries.create(user_id=users[1].pk, content="\u00e9", size_bytes=2)

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())  # 0002 fills the usage rows

    usage = {u.user_id: (u.bytes_used, u.entries) for u in JournalUsage.objects.all()}
    assert usage == {users[0].pk: (15, 3), users[1].pk: (2, 1)}
