"""Bodies, query strings and headers the API cannot read are 400s (401 for credentials) with a
JSON ``detail``, never a 500, and nothing of them reaches the database."""

import json

import pytest

from journal.models import JournalEntry
from ops.parsers import MAX_DEPTH
from subscriptions.models import SubscriptionEvent
from tests.subscriptions.conftest import SECRET, WEBHOOK, event_payload, sign

pytestmark = pytest.mark.django_db

LOGIN = "/api/v1/auth/login"
REFRESH = "/api/v1/auth/refresh"
LOGOUT = "/api/v1/auth/logout"
ENTRIES = "/api/v1/journal/entries"


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def assert_refused(response, status=400):
    assert response.status_code == status, response.content
    body = response.json()
    assert isinstance(body["detail"], str) and body["detail"]
    assert isinstance(body["code"], str)


@pytest.fixture
def webhook_secret(settings):
    settings.SUBSCRIPTION_WEBHOOK_SECRETS = [SECRET]


@pytest.fixture
def entry(auth_api):
    response = auth_api.post(ENTRIES, {"content": "first"}, format="json")
    assert response.status_code == 201
    return response.json()["id"]


def post_json(client, path, text, method="post"):
    return getattr(client, method)(path, text, content_type="application/json")


@pytest.mark.parametrize("path", [LOGIN, REFRESH, LOGOUT, ENTRIES])
@pytest.mark.parametrize("body", ["[" * 20_000, '{"a": ' * 20_000, nested(20_000)])
def test_a_body_nested_past_the_decoder_is_400(auth_api, path, body):
    assert_refused(post_json(auth_api, path, body))


def test_a_patch_nested_past_the_decoder_is_400(auth_api, entry):
    assert_refused(post_json(auth_api, f"{ENTRIES}/{entry}", "[" * 20_000, method="patch"))
    assert JournalEntry.objects.get().content == "first"


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 800])
def test_a_body_nested_past_the_limit_is_400_even_where_no_field_reads_it(auth_api, depth):
    body = '{"content": "text", "extra": ' + nested(depth - 1) + "}"

    assert_refused(post_json(auth_api, ENTRIES, body))
    assert not JournalEntry.objects.exists()


def test_a_body_nested_within_the_limit_is_read_and_its_undefined_field_named(auth_api):
    body = '{"content": "text", "extra": ' + nested(MAX_DEPTH - 1) + "}"

    response = post_json(auth_api, ENTRIES, body)

    assert response.status_code == 400
    assert response.json()["detail"] == "extra: This endpoint does not define this field."
    assert not JournalEntry.objects.exists()


TEXT_THE_DATABASE_CANNOT_STORE = [
    '{"content": "a\\u0000b"}',
    '{"content": "a\\ud800b"}',
    '{"content": "a\\udfff"}',
    '{"content": "ok", "note\\u0000": 1}',
    '{"content": "ok", "\\ud83d": 1}',
    '{"content": "ok", "extra": ["\\u0000"]}',
    '{"content": "ok", "extra": {"deeper": "\\udc80"}}',
]


@pytest.mark.parametrize("body", TEXT_THE_DATABASE_CANNOT_STORE)
def test_nul_or_a_lone_surrogate_anywhere_in_an_entry_body_is_400(auth_api, body):
    assert_refused(post_json(auth_api, ENTRIES, body))
    assert not JournalEntry.objects.exists()


def test_a_surrogate_pair_is_one_character_and_is_stored(auth_api):
    response = post_json(auth_api, ENTRIES, '{"content": "\\ud83d\\ude00"}')

    assert response.status_code == 201
    assert JournalEntry.objects.get().content == "\U0001f600"


@pytest.mark.parametrize(
    "body",
    [
        '{"provider": "google\\u0000", "id_token": "x"}',
        '{"provider": "google", "id_token": "x", "fingerprint": "\\ud800"}',
        '{"provider": "google", "id_token": "x", "\\u0000": "x"}',
    ],
)
def test_nul_or_a_lone_surrogate_in_a_login_body_is_400(api, idp, body):
    assert_refused(post_json(api, LOGIN, body))


@pytest.mark.parametrize("fingerprint", ["\\u0000", "\\udbff"])
def test_nul_or_a_lone_surrogate_in_a_refresh_body_is_400_and_spends_nothing(auth_api, fingerprint):
    refresh = auth_api.pair.refresh
    body = f'{{"refresh": "{refresh}", "fingerprint": "{fingerprint}"}}'

    assert_refused(post_json(auth_api, REFRESH, body))
    # The token was not rotated: it still works.
    assert auth_api.post(REFRESH, {"refresh": refresh}, format="json").status_code == 200


OUT_OF_RANGE = ["1e999", "-1e999", "123456789012345678901234567890", "9223372036854775808"]


@pytest.mark.parametrize("number", OUT_OF_RANGE)
@pytest.mark.parametrize("template", ['{{"content": {}}}', '{{"content": "text", "extra": [{}]}}'])
def test_a_number_out_of_range_is_400(auth_api, template, number):
    assert_refused(post_json(auth_api, ENTRIES, template.format(number)))
    assert not JournalEntry.objects.exists()


@pytest.mark.parametrize("number", ["9223372036854775807", "-9223372036854775808", "1e308"])
def test_a_number_within_range_where_no_field_reads_it_is_ignored_by_the_webhook(
    api, webhook_secret, user, number
):
    event = json.dumps(event_payload(user.pk))
    body = (event[:-1] + ', "extra": ' + number + "}").encode()

    assert _signed_webhook(api, body).json() == {"status": "processed"}


def test_an_integer_of_thousands_of_digits_is_400(auth_api):
    assert_refused(post_json(auth_api, ENTRIES, '{"content": ' + "9" * 5000 + "}"))


@pytest.mark.parametrize(
    "query",
    [
        "offset=99999999999999999999999",
        "offset=1e999",
        "offset=-1",
        "limit=0",
        "limit=" + "9" * 5000,
        "limit=%00",
        "limit=1%00",
        "offset=%ED%A0%80",
        "limit=%FF%FE",
        "limit=NaN",
        "limit=Infinity",
    ],
)
def test_bad_paging_is_400(auth_api, query):
    assert_refused(auth_api.get(f"{ENTRIES}?{query}"))


def test_a_huge_limit_is_the_largest_page(auth_api, entry):
    response = auth_api.get(f"{ENTRIES}?limit=99999999999999999999999")

    assert response.status_code == 200
    assert response.json()["count"] == 1


def test_a_query_parameter_the_api_does_not_read_is_ignored(auth_api, entry):
    # Bytes that are not UTF-8 are decoded with replacement: no lone surrogate gets in.
    response = auth_api.get(f"{ENTRIES}?q=%ED%A0%80&limit=5")

    assert response.status_code == 200
    assert response.json()["count"] == 1


def test_a_nul_anywhere_in_the_query_string_is_400(auth_api, entry):
    assert_refused(auth_api.get(f"{ENTRIES}?q=%00&limit=5"), status=400)


@pytest.mark.parametrize("path", [f"{ENTRIES}/%ED%A0%80", "/api/v1/%FF"])
def test_a_path_parameter_that_is_not_an_id_is_404(auth_api, path):
    assert_refused(auth_api.get(path), status=404)
    assert_refused(auth_api.delete(path), status=404)


@pytest.mark.parametrize("path", [f"{ENTRIES}/%00", "/api/v1/sessions/%00"])
def test_a_nul_in_the_path_is_400(auth_api, path):
    assert_refused(auth_api.get(path), status=400)
    assert_refused(auth_api.delete(path), status=400)


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer a\x00b",
        "Bearer \x00",
        "Bearer \xff\xfe",
        "Bearer\x00token",
        "Bearer token \x00",
        # No WSGI server hands over text past latin-1, but a test client or another
        # server might.
        "Bearer \udc80",
        "Bearer é\u20ac",
    ],
)
def test_an_unreadable_authorization_header_is_401(api, authorization):
    response = api.get("/api/v1/me", HTTP_AUTHORIZATION=authorization)

    assert_refused(response, status=401)


@pytest.mark.parametrize("request_id", ["abc\x00def", "\x00", "ok\xff", "\udc80"])
def test_an_unreadable_request_id_is_refused_under_a_new_one(auth_api, request_id):
    response = auth_api.get("/api/v1/me", HTTP_X_REQUEST_ID=request_id)

    assert_refused(response)
    assert response.json()["code"] == "invalid_request_id"
    assert response["X-Request-ID"] != request_id
    assert response["X-Request-ID"].isascii()


@pytest.mark.parametrize(
    "forwarded_for", ["\x00", "1.2.3.4\x00", "\xff\xfe, 10.0.0.1", ",,,", "\x00" * 300]
)
def test_an_unreadable_forwarded_for_still_signs_in(api, idp, settings, forwarded_for):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    response = api.post(
        LOGIN,
        {"provider": "google", "id_token": idp.id_token()},
        format="json",
        HTTP_X_FORWARDED_FOR=forwarded_for,
        HTTP_USER_AGENT="agent\x00\xff",
    )

    assert response.status_code == 200


@pytest.mark.parametrize("header", ["t=1\x00,v1=ab", "\x00", "t=\xff,v1=\xfe", "t=1,v1=\udc80"])
def test_an_unreadable_signature_header_is_401(api, webhook_secret, user, header):
    body = json.dumps(event_payload(user.pk)).encode()
    response = api.post(
        WEBHOOK, body, content_type="application/json", HTTP_X_WEBHOOK_SIGNATURE=header
    )

    assert_refused(response, status=401)
    assert not SubscriptionEvent.objects.exists()


def _signed_webhook(api, body: bytes):
    return api.post(
        WEBHOOK, body, content_type="application/json", HTTP_X_WEBHOOK_SIGNATURE=sign(body)
    )


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 800, 20_000])
def test_a_signed_event_nested_past_the_limit_is_400(api, webhook_secret, user, depth):
    event = json.dumps(event_payload(user.pk))
    body = (event[:-1] + ', "extra": ' + nested(depth - 1) + "}").encode()

    assert_refused(_signed_webhook(api, body))
    assert not SubscriptionEvent.objects.exists()


def test_a_signed_event_nested_within_the_limit_is_processed(api, webhook_secret, user):
    event = json.dumps(event_payload(user.pk))
    body = (event[:-1] + ', "extra": ' + nested(MAX_DEPTH - 1) + "}").encode()

    assert _signed_webhook(api, body).json() == {"status": "processed"}


@pytest.mark.parametrize(
    "extra", ['{"\\u0000": 1}', '{"\\udfff": 1}', "123456789012345678901234567890", "-1e999"]
)
def test_a_signed_event_with_unstorable_keys_or_numbers_is_400(api, webhook_secret, user, extra):
    event = json.dumps(event_payload(user.pk))
    body = (event[:-1] + ', "extra": ' + extra + "}").encode()

    assert_refused(_signed_webhook(api, body))
    assert not SubscriptionEvent.objects.exists()
