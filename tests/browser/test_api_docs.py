"""The API's docs page (Swagger UI) in a real browser: it renders from the app's own files,
with no request leaving the machine, and runs a call with a token an operator issued."""

import json
from io import StringIO

from django.core.management import call_command
from django.urls import reverse

ME = "#operations-account-me"


def issue_tokens(**options) -> dict:
    out = StringIO()
    call_command("issue_tokens", stdout=out, **options)
    return json.loads(out.getvalue())


def test_docs_render_offline_and_run_get_me_with_an_issued_token(browser):
    tokens = issue_tokens(provider="google", subject="erin-sub", email="erin@example.com")

    browser.open(reverse("api-docs"))
    assert "Journal API" in browser.wait_for_text("Journal API", ".info .title")
    assert "/api/v1/me" in browser.text(f"{ME} .opblock-summary")
    browser.screenshot("rendered")

    # Authorize with the access token.
    browser.click(".auth-wrapper .authorize")
    browser.fill(".modal-ux input[type=text]", tokens["access"])
    browser.screenshot("token-pasted")
    browser.click(".modal-ux .auth-btn-wrapper .authorize")
    assert "Authorized" in browser.wait_for_text("Authorized", ".modal-ux")
    browser.click(".modal-ux .btn-done")

    # GET /api/v1/me, tried out.
    browser.click(f"{ME} .opblock-summary-control")
    browser.click(f"{ME} .try-out__btn")
    browser.click(f"{ME} .execute")
    status = browser.find(f"{ME} .live-responses-table .response .response-col_status")
    assert status.text == "200"
    body = json.loads(browser.text(f"{ME} .live-responses-table .response-col_description pre"))
    assert body["id"] == tokens["user_id"]
    assert body["email"] == "erin@example.com"
    browser.screenshot("get-me-200", showing=f"{ME} .live-responses-table")

    requests = browser.requested_urls()
    assert any(url.endswith(reverse("api-schema")) for url in requests)
    assert any("/api/v1/me" in url for url in requests)
    assert browser.foreign_requests() == []
