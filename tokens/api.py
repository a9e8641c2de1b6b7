from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from idempotency.views import IdempotentMixin
from ops.openapi import IDEMPOTENCY_KEY, RETRY_AFTER, THROTTLED, UNAUTHORIZED, error
from ops.pinning import identify_reader
from ops.views import PublicAPIView
from tokens import selectors, services
from tokens.serializers import (
    LoginResponseSerializer,
    LoginSerializer,
    LogoutSerializer,
    RefreshSerializer,
    SessionSerializer,
    TokenPairSerializer,
)


class LoginView(PublicAPIView):
    throttle_scope = "login"

    @extend_schema(
        operation_id="login",
        tags=["auth"],
        summary="Sign in with an identity provider's ID token",
        description="Finds or creates the user of a verified ID token and starts a session "
        "(a refresh token family). `fingerprint` binds the session to a device.",
        request=LoginSerializer,
        responses={
            200: LoginResponseSerializer,
            400: error("Malformed body, or an unknown provider (`invalid`)."),
            401: error(
                "The ID token is invalid, expired, for another audience or issuer, "
                "or the account is disabled (`sign_in_refused`)."
            ),
            429: THROTTLED,
            503: error("The provider's keys are unreachable (`service_unavailable`)."),
        },
        parameters=[RETRY_AFTER],
    )
    def post(self, request):
        serializer = LoginSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user, pair = services.sign_in(**serializer.validated_data)
        identify_reader(user.pk)  # its next requests read the new session from the primary
        return Response(LoginResponseSerializer(pair).data)


class RefreshView(PublicAPIView):
    throttle_scope = "refresh"

    @extend_schema(
        operation_id="refresh",
        tags=["auth"],
        summary="Rotate a refresh token for a new token pair",
        description="The presented refresh token is spent. Presenting a spent token again ends "
        "its whole session (theft detection).",
        request=RefreshSerializer,
        responses={
            200: TokenPairSerializer,
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
        identify_reader(pair.session.user_id)
        return Response(TokenPairSerializer(pair).data)


class LogoutView(IdempotentMixin, APIView):
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
        parameters=[IDEMPOTENCY_KEY],
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


class LogoutAllView(IdempotentMixin, APIView):
    @extend_schema(
        operation_id="logout_all",
        tags=["auth"],
        summary="End every session of the user",
        description="Every refresh token of the user and this access token are dead at once; "
        "other devices' access tokens live out their lifetime.",
        request=None,
        responses={204: OpenApiResponse(description="Every session ended."), 401: UNAUTHORIZED},
        parameters=[IDEMPOTENCY_KEY],
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


class SessionDetailView(IdempotentMixin, APIView):
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
        parameters=[IDEMPOTENCY_KEY],
    )
    def delete(self, request, session_id):
        services.revoke_session(user=request.user, session_id=session_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
