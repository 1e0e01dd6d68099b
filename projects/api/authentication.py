"""Token authentication that honours LABELER_TOKEN_TTL_HOURS: an expired token answers 401 saying so."""
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed

from .. import tokens


class ExpiringTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        if tokens.is_expired(token):
            raise AuthenticationFailed(
                f"Token expired at {tokens.expires_at(token).isoformat()}: get a new one with POST /api/auth/token/."
            )
        return user, token
