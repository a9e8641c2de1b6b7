from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import services
from accounts.serializers import LoginSerializer, UserSerializer, user_data
from config.openapi import RETRY_AFTER, THROTTLED, UNAUTHORIZED, error
from config.throttling import ClientAddressThrottle
from tokens.serializers import token_pair_data

LOGIN_RESPONSE = inline_serializer(
    "LoginResponse",
    fields={
        "access": serializers.CharField(
            help_text="Access token (JWT) for `Authorization: Bearer`."
        ),
        "refresh": serializers.CharField(
            help_text="Refresh token: present it once to auth/refresh."
        ),
        "token_type": serializers.ChoiceField(choices=["Bearer"]),
        "expires_in": serializers.IntegerField(help_text="Seconds the access token lives."),
        "user": UserSerializer(),
    },
)


class LoginView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [ClientAddressThrottle]
    throttle_scope = "login"

    @extend_schema(
        operation_id="login",
        tags=["auth"],
        summary="Sign in with an identity provider's ID token",
        description="Finds or creates the user of a verified ID token and starts a session "
        "(a refresh token family). `fingerprint` binds the session to a device.",
        request=LoginSerializer,
        responses={
            200: LOGIN_RESPONSE,
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
        return Response({**token_pair_data(pair), "user": user_data(user)})


class MeView(APIView):
    @extend_schema(
        operation_id="me",
        tags=["account"],
        summary="The signed-in user",
        responses={200: UserSerializer, 401: UNAUTHORIZED},
    )
    def get(self, request):
        return Response(user_data(request.user))

    @extend_schema(
        operation_id="delete_account",
        tags=["account"],
        summary="Delete the account and everything it owns",
        description="In one transaction: the user, their sessions, entries and subscriptions.",
        responses={204: OpenApiResponse(description="The account is gone."), 401: UNAUTHORIZED},
    )
    def delete(self, request):
        services.delete_user(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
