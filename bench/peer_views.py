"""The peer of bench/api.py: the API's benchmarked endpoints written the way DRF's and
simplejwt's documentation show them, as a DRF user would otherwise write them: generic views,
ModelSerializers, LimitOffsetPagination, simplejwt's JWTAuthentication (and its
TokenRefreshView for auth/refresh, in bench/peer_urls.py). No quota, no rate limit, no
refresh-token reuse detection: the textbook, not the app. Mounted at /bench/peer/ by
bench/urls.py (bench.settings only); never in production."""

from rest_framework import generics, serializers
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.permissions import IsAuthenticated
from rest_framework_simplejwt.authentication import JWTAuthentication

from accounts.models import User
from journal.models import JournalEntry


class EntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = JournalEntry
        fields = ["id", "content", "size_bytes", "created_at", "updated_at"]
        read_only_fields = ["id", "size_bytes", "created_at", "updated_at"]


class UserSerializer(serializers.ModelSerializer):
    # The fields of the app's GET /api/v1/me (accounts.serializers.UserSerializer).
    class Meta:
        model = User
        fields = ["id", "provider", "email", "display_name", "created_at"]
        read_only_fields = fields


class EntryPagination(LimitOffsetPagination):
    default_limit = 20
    max_limit = 100  # the app's cap on `limit`


class EntryListCreateView(generics.ListCreateAPIView):
    authentication_classes = [JWTAuthentication]
    permission_classes = [IsAuthenticated]
    serializer_class = EntrySerializer
    pagination_class = EntryPagination

    def get_queryset(self):
        return JournalEntry.objects.filter(user=self.request.user).order_by("-created_at", "-id")

    def perform_create(self, serializer):
        content = serializer.validated_data["content"]
        serializer.save(user=self.request.user, size_bytes=len(content.encode("utf-8")))


class MeView(generics.RetrieveAPIView):
    authentication_classes = [JWTAuthentication]
    permission_classes = [IsAuthenticated]
    serializer_class = UserSerializer

    def get_object(self):
        return self.request.user
