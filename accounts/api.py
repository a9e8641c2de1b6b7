from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import services
from accounts.serializers import UserSerializer
from idempotency.views import IdempotentMixin
from ops.openapi import IDEMPOTENCY_KEY, UNAUTHORIZED
from ops.serializers import represent


class MeView(IdempotentMixin, APIView):
    @extend_schema(
        operation_id="me",
        tags=["account"],
        summary="The signed-in user",
        responses={200: UserSerializer, 401: UNAUTHORIZED},
    )
    def get(self, request):
        return Response(represent(UserSerializer, request.user))

    @extend_schema(
        operation_id="delete_account",
        tags=["account"],
        summary="Delete the account and everything it owns",
        description="In one transaction: the user, their sessions, entries, subscriptions, "
        "subscription events and idempotency keys (so a retry of this request, its access "
        "token dead, is answered 401).",
        responses={204: OpenApiResponse(description="The account is gone."), 401: UNAUTHORIZED},
        parameters=[IDEMPOTENCY_KEY],
    )
    def delete(self, request):
        services.delete_user(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
