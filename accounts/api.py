from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import services
from accounts.serializers import LoginSerializer, UserSerializer
from tokens.serializers import token_pair_data


class LoginView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    def post(self, request):
        serializer = LoginSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user, pair = services.sign_in(**serializer.validated_data)
        return Response({**token_pair_data(pair), "user": UserSerializer(user).data})


class MeView(APIView):
    def get(self, request):
        return Response(UserSerializer(request.user).data)

    def delete(self, request):
        services.delete_user(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
