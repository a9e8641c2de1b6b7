"""The admin's sign-in page, rate limited so that staff passwords cannot be guessed at speed,
without letting anyone who knows a staff member's username lock them out.

Every sign-in attempt on the admin's login page (a username and a password posted) is
counted in the throttle store the API's throttles use (``ops.shared_state.shared_state()``),
so every worker of the host (every host, with ``REDIS_URL``) shares the counts, over a
sliding window of ``WINDOW_SECONDS``:

- per (username, client address): past ``ATTEMPTS_PER_USERNAME_AND_ADDRESS``, that address
  may not try that username again for a while;
- per client address: past ``ATTEMPTS_PER_ADDRESS`` (higher: an office behind one address has
  several staff), that address may not try any username, so it cannot spray guesses;
- per username, from every address: past ``USERNAME_ALERT_CEILING`` the attempt goes on (a
  limit here is what would let anyone lock a staff member out), but it is logged as a warning
  and counted in ``journal_admin_login_username_ceiling_total``: many addresses guessing one
  username is an attack to see, not one to obey.

A refused attempt answers 429 with ``Retry-After`` and the form with the reason, without
checking the password, and is not counted, so hammering does not lengthen the wait.
Successful sign-ins count as attempts too: the store counts each request it lets through and
has no read that does not count, and staff sign in rarely (an admin session lasts weeks).
The client address is the one the API's throttles count (``NUM_PROXIES``, IPv6 per /64).
"""

import hashlib
import logging
import math
import time

from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.admin.sites import AdminSite
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache

from ops.metrics import ADMIN_LOGIN_USERNAME_CEILING
from ops.shared_state import shared_state
from ops.throttling import client_ident

logger = logging.getLogger(__name__)

ATTEMPTS_PER_USERNAME_AND_ADDRESS = 5
ATTEMPTS_PER_ADDRESS = 20
USERNAME_ALERT_CEILING = 50
WINDOW_SECONDS = 15 * 60


class AdminSignInThrottle:
    """Counts one sign-in attempt against its limits and its username's alert ceiling."""

    timer = staticmethod(time.time)

    def refusal(self, request, username: str) -> float | None:
        """None if the attempt may go on (it is then counted); else the seconds until one
        may. The counts fail safe as the API's do (``ops.shared_state.failsafe``)."""
        # Hashed: a long or mistyped username (a password in the wrong box) stays out of
        # the counts file.
        username_digest = hashlib.sha256(username.casefold().encode()).hexdigest()
        address = client_ident(request)
        limits = (
            (f"admin_login_address_{address}", ATTEMPTS_PER_ADDRESS),
            (
                f"admin_login_username_address_{username_digest}_{address}",
                ATTEMPTS_PER_USERNAME_AND_ADDRESS,
            ),
        )
        now = self.timer()
        store = shared_state()
        for key, limit in limits:
            allowed, wait = store.hit(key, limit, WINDOW_SECONDS, now)
            if not allowed:
                return wait
        below_ceiling, _ = store.hit(
            f"admin_login_username_{username_digest}", USERNAME_ALERT_CEILING, WINDOW_SECONDS, now
        )
        if not below_ceiling:
            ADMIN_LOGIN_USERNAME_CEILING.inc()
            logger.warning(
                "admin sign-in attempts for username %r past %d in %d s, from many addresses: "
                "let through (each address is limited on its own)",
                username[:64],
                USERNAME_ALERT_CEILING,
                WINDOW_SECONDS,
            )
        return None


class ThrottledAdminAuthenticationForm(AdminAuthenticationForm):
    """The admin's login form, which refuses an attempt over the limits before the password
    is checked; ``retry_after`` then says in how many seconds one more may be made."""

    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "throttled": (
            "Too many sign-in attempts from this address. Try again in %(minutes)s minutes."
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


class ThrottledAdminSite(AdminSite):
    """The project's admin site (``ops.apps.OpsAdminConfig.default_site``): its login form
    counts sign-in attempts and refuses them past the limits, and a refused attempt answers
    429 with ``Retry-After`` (the form alone would answer 200)."""

    login_form = ThrottledAdminAuthenticationForm

    @method_decorator(never_cache)
    @login_not_required
    def login(self, request, extra_context=None):
        response = super().login(request, extra_context)
        form = (getattr(response, "context_data", None) or {}).get("form")
        retry_after = getattr(form, "retry_after", None)
        if retry_after is not None:
            response.status_code = 429
            response["Retry-After"] = str(retry_after)
        return response
