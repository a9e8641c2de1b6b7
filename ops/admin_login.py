"""The admin's sign-in page, rate limited so that staff passwords cannot be guessed at speed.

Every sign-in attempt on the admin's login page (a username and a password posted) is
counted per client address and per username, in the throttle store the API's throttles use
(``ops.shared_state.shared_state()``), so every worker of the host shares the counts. Past
``ATTEMPTS_PER_ADDRESS`` attempts from one address, or ``ATTEMPTS_PER_USERNAME`` for one
username, within ``WINDOW_SECONDS`` (a sliding window, as for the API's rates), the page
answers 429 with ``Retry-After`` and shows the form with the reason, without checking the
password. A refused attempt is not counted, so hammering does not lengthen the wait.

Successful sign-ins count as attempts too: the store counts each request it lets through and
has no read that does not count, and staff sign in rarely (an admin session lasts weeks).
The client address is the one the API's throttles count (``NUM_PROXIES``, IPv6 per /64).
"""

import hashlib
import math
import time

from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.admin.sites import AdminSite
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError

from ops.shared_state import shared_state
from ops.throttling import client_ident

ATTEMPTS_PER_ADDRESS = 5
ATTEMPTS_PER_USERNAME = 5
WINDOW_SECONDS = 15 * 60


class AdminSignInThrottle:
    """Counts one sign-in attempt against its address's and its username's limits."""

    timer = staticmethod(time.time)

    def refusal(self, request, username: str) -> float | None:
        """None if the attempt may go on (it is then counted); else the seconds until one
        may. The counts fail safe as the API's do (``ops.shared_state.FailSafeStore``)."""
        # Hashed: a long or mistyped username (a password in the wrong box) stays out of
        # the counts file.
        username_digest = hashlib.sha256(username.casefold().encode()).hexdigest()
        limits = (
            (f"admin_login_address_{client_ident(request)}", ATTEMPTS_PER_ADDRESS),
            (f"admin_login_username_{username_digest}", ATTEMPTS_PER_USERNAME),
        )
        now = self.timer()
        store = shared_state()
        for key, limit in limits:
            allowed, wait = store.hit(key, limit, WINDOW_SECONDS, now)
            if not allowed:
                return wait
        return None


class ThrottledAdminAuthenticationForm(AdminAuthenticationForm):
    """The admin's login form, which refuses an attempt over the limits before the password
    is checked; ``retry_after`` then says in how many seconds one more may be made."""

    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "throttled": (
            "Too many sign-in attempts for this username or from this address. "
            "Try again in %(minutes)s minutes."
        ),
    }
    retry_after = None

    def clean(self):
        username = self.cleaned_data.get("username")
        # The condition under which the parent checks the password.
        if username is not None and self.cleaned_data.get("password"):
            wait = AdminSignInThrottle().refusal(self.request, username)
            if wait is not None:
                self.retry_after = max(math.ceil(wait), 1)
                raise ValidationError(
                    self.error_messages["throttled"],
                    code="throttled",
                    params={"minutes": math.ceil(self.retry_after / 60)},
                )
        return super().clean()


def throttle_sign_in(site: AdminSite) -> None:
    """Limit sign-in attempts on ``site``'s login page: its form counts and refuses them, and
    a refused attempt answers 429 with ``Retry-After`` (the form alone would answer 200)."""
    site.login_form = ThrottledAdminAuthenticationForm
    # Wired again when the URLconf is reloaded: wrap the site's own view, not the last wrapper.
    site_login = getattr(site.login, "unthrottled", site.login)

    @login_not_required
    def login(request, extra_context=None):
        response = site_login(request, extra_context)
        form = (getattr(response, "context_data", None) or {}).get("form")
        retry_after = getattr(form, "retry_after", None)
        if retry_after is not None:
            response.status_code = 429
            response["Retry-After"] = str(retry_after)
        return response

    login.unthrottled = site_login  # type: ignore[attr-defined]  # read by the next wiring
    site.login = login  # type: ignore[method-assign]  # the site's own view, wrapped in place
