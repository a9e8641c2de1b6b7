"""Fifty clients at once against a live server: nothing is lost, nothing answers 5xx."""

import random
import threading
from collections import defaultdict

import pytest

from accounts.services import upsert_user
from journal.models import JournalEntry
from tests.resilience.http import call
from tests.resilience.server import app_server, database_url_for_tests
from tests.tokens.queries import find_valid_refresh_token
from tokens.models import RefreshToken
from tokens.services import start_session

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

CLIENTS = 50
USERS = 10
OPERATIONS = 16


class Client:
    """One app instance: its own login, its own entries, a log of every answer."""

    def __init__(self, base_url, user, pair, seed):
        self.base_url = base_url
        self.user = user
        self.access, self.refresh = pair.access, pair.refresh
        self.rng = random.Random(seed)
        self.created, self.deleted = [], []
        self.statuses = []

    def request(self, method, path, body=None):
        status, data, _ = call(self.base_url, method, path, token=self.access, body=body)
        self.statuses.append((method, path.split("?")[0], status))
        return status, data

    def run(self, start):
        start.wait()
        for n in range(OPERATIONS):
            op = self.rng.choice(["create", "create", "list", "delete", "refresh"])
            alive = [e for e in self.created if e not in self.deleted]
            if op == "create" or (op == "delete" and not alive):
                status, data = self.request(
                    "POST", "/api/v1/journal/entries", {"content": f"entry {n} \u00e9"}
                )
                if status == 201:
                    self.created.append(data["id"])
            elif op == "delete":
                victim = self.rng.choice(alive)
                status, _ = self.request("DELETE", f"/api/v1/journal/entries/{victim}")
                if status == 204:
                    self.deleted.append(victim)
            elif op == "list":
                self.request("GET", "/api/v1/journal/entries?limit=10")
            else:
                status, data, _ = call(
                    self.base_url, "POST", "/api/v1/auth/refresh", body={"refresh": self.refresh}
                )
                self.statuses.append(("POST", "/api/v1/auth/refresh", status))
                if status == 200:
                    self.access, self.refresh = data["access"], data["refresh"]


def test_fifty_concurrent_clients_get_no_5xx_and_lose_nothing():
    users = [upsert_user(provider="load", provider_subject=f"user-{i}") for i in range(USERS)]
    # All fifty clients come from one address: lift the refresh throttle meant for one client.
    with app_server(
        DATABASE_URL=database_url_for_tests(), THROTTLE_REFRESH_RATE="100000/min"
    ) as url:
        clients = [
            Client(url, users[i % USERS], start_session(user=users[i % USERS]), i)
            for i in range(CLIENTS)
        ]
        start = threading.Event()
        threads = [threading.Thread(target=c.run, args=(start,)) for c in clients]
        for thread in threads:
            thread.start()
        start.set()
        for thread in threads:
            thread.join(120)

    statuses = [s for c in clients for s in c.statuses]
    assert len(statuses) == CLIENTS * OPERATIONS
    assert [s for s in statuses if s[2] >= 500] == []
    assert {s[2] for s in statuses} <= {200, 201, 204}
    # The database holds exactly what the successful answers said.
    expected = defaultdict(set)
    for client in clients:
        expected[client.user.pk] |= set(client.created) - set(client.deleted)
    for user in users:
        stored = {
            str(pk) for pk in JournalEntry.objects.filter(user=user).values_list("pk", flat=True)
        }
        assert stored == expected[user.pk]
    # Every client's last refresh token is the live one of its session.
    for client in clients:
        token = find_valid_refresh_token(raw_token=client.refresh)
        assert token is not None and token.session.user_id == client.user.pk
    assert RefreshToken.objects.filter(rotated_at__isnull=True).count() == CLIENTS
