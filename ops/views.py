"""Base views shared by the apps' APIs."""

from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from ops.throttling import ClientAddressThrottle


class PublicAPIView(APIView):
    """An endpoint anyone may call (sign-in, refresh, the payment provider's webhook): no
    authentication, and a rate limit per client address under the subclass's
    ``throttle_scope`` (``THROTTLE_<SCOPE>_RATE``)."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [ClientAddressThrottle]
