"""Settings of bench/api.py: the app's production settings, plus what the benchmark mounts
beside the API (bench/urls.py: the bare views and the peer) and what the peer needs
(djangorestframework-simplejwt and its blacklist app, `pip install -e '.[bench]'`).

    DJANGO_SETTINGS_MODULE=bench.settings

Nothing in config/ refers to this module: production never mounts the benchmark's views.
"""

import hashlib
from datetime import timedelta

from config.settings import *  # noqa: F403
from config.settings import INSTALLED_APPS, REFRESH_TOKEN_TTL_DAYS, SECRET_KEY

ROOT_URLCONF = "bench.urls"

# A new list: config.settings' own stays as it is.
INSTALLED_APPS = [
    *INSTALLED_APPS,
    "rest_framework_simplejwt",
    "rest_framework_simplejwt.token_blacklist",
]

# The peer's tokens (bench/peer_views.py), configured as simplejwt's documentation shows:
# rotation with the blacklist, HS256, the user's UUID primary key as the user_id claim.
# The authentication and permission classes are set on the peer's views, so the app's
# REST_FRAMEWORK settings stay as they are.
SIMPLE_JWT = {
    # Long enough for a whole run of the benchmark on one seeded access token.
    "ACCESS_TOKEN_LIFETIME": timedelta(days=1),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=REFRESH_TOKEN_TTL_DAYS),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    "ALGORITHM": "HS256",
    # 64 bytes, derived like the app's own JWT_SIGNING_KEY but for a different purpose.
    "SIGNING_KEY": hashlib.sha256(f"bench-simplejwt-signing:{SECRET_KEY}".encode()).hexdigest(),
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
}
