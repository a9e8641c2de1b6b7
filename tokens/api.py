from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from tokens import selectors, services
from tokens.serializers import (
    LogoutSerializer,
    RefreshSerializer,
    SessionSerializer,
    token_pair_data,
)


class RefreshView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    def post(self, request):
        serializer = RefreshSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        pair = services.rotate_refresh_token(
            raw_token=serializer.validated_data["refresh"],
            fingerprint=serializer.validated_data.get("fingerprint"),
        )
        return Response(token_pair_data(pair))


class LogoutView(APIView):
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
    def post(self, request):
        services.logout_all(user=request.user, claims=request.auth)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SessionListView(APIView):
    def get(self, request):
        sessions = selectors.list_sessions(user=request.user)
        context = {"current_session_id": request.auth.session_id}
        return Response(SessionSerializer(sessions, many=True, context=context).data)


class SessionDetailView(APIView):
    def delete(self, request, session_id):
        services.revoke_session(user=request.user, session_id=session_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
