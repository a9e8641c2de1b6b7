from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from config.openapi import RETRY_AFTER, THROTTLED, UNAUTHORIZED, error
from config.throttling import ClientAddressThrottle
from tokens import selectors, services
from tokens.serializers import (
    LogoutSerializer,
    RefreshSerializer,
    SessionSerializer,
    token_pair_data,
)

TOKEN_PAIR = inline_serializer(
    "TokenPair",
    fields={
        "access": serializers.CharField(
            help_text="Access token (JWT) for `Authorization: Bearer`."
        ),
        "refresh": serializers.CharField(help_text="The next refresh token: this one is spent."),
        "token_type": serializers.ChoiceField(choices=["Bearer"]),
        "expires_in": serializers.IntegerField(help_text="Seconds the access token lives."),
    },
)


class RefreshView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [ClientAddressThrottle]
    throttle_scope = "refresh"

    @extend_schema(
        operation_id="refresh",
        tags=["auth"],
        summary="Rotate a refresh token for a new token pair",
        description="The presented refresh token is spent. Presenting a spent token again ends "
        "its whole session (theft detection).",
        request=RefreshSerializer,
        responses={
            200: TOKEN_PAIR,
            400: error("Malformed body (`invalid`)."),
            401: error(
                "Unknown, expired, revoked or already used refresh token, or a fingerprint "
                "mismatch (`invalid_refresh_token`)."
            ),
            429: THROTTLED,
        },
        parameters=[RETRY_AFTER],
    )
    def post(self, request):
        serializer = RefreshSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        pair = services.rotate_refresh_token(
            raw_token=serializer.validated_data["refresh"],
            fingerprint=serializer.validated_data.get("fingerprint"),
        )
        return Response(token_pair_data(pair))


class LogoutView(APIView):
    @extend_schema(
        operation_id="logout",
        tags=["auth"],
        summary="End this session",
        description="The access token is dead at once, and its session ends; a `refresh` "
        "token given in the body ends that token's session too.",
        request=LogoutSerializer,
        responses={
            204: OpenApiResponse(description="Signed out."),
            400: error("Malformed body (`invalid`)."),
            401: UNAUTHORIZED,
        },
    )
    def post(self, request):
        serializer = LogoutSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.logout(
            user=request.user,
            claims=request.auth,
            raw_refresh=serializer.validated_data.get("refresh"),
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class LogoutAllView(APIView):
    @extend_schema(
        operation_id="logout_all",
        tags=["auth"],
        summary="End every session of the user",
        description="Every refresh token of the user and this access token are dead at once; "
        "other devices' access tokens live out their lifetime.",
        request=None,
        responses={204: OpenApiResponse(description="Every session ended."), 401: UNAUTHORIZED},
    )
    def post(self, request):
        services.logout_all(user=request.user, claims=request.auth)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SessionListView(APIView):
    @extend_schema(
        operation_id="list_sessions",
        tags=["sessions"],
        summary="The user's live logins",
        description="One per live login (refresh token family); `current` marks this one.",
        responses={200: SessionSerializer(many=True), 401: UNAUTHORIZED},
    )
    def get(self, request):
        sessions = selectors.list_sessions(user=request.user)
        context = {"current_session_id": request.auth.session_id}
        return Response(SessionSerializer(sessions, many=True, context=context).data)


class SessionDetailView(APIView):
    @extend_schema(
        operation_id="revoke_session",
        tags=["sessions"],
        summary="End one login",
        description="That login's refresh tokens are dead at once.",
        responses={
            204: OpenApiResponse(description="The session ended."),
            401: UNAUTHORIZED,
            404: error("No such session of this user (`session_not_found`)."),
        },
    )
    def delete(self, request, session_id):
        services.revoke_session(user=request.user, session_id=session_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
