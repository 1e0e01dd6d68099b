"""API tokens: issued on sign-in, valid LABELER_TOKEN_TTL_HOURS from issue (or until revoked), rotated and revoked
by their holder. One token per user (DRF's Token), so rotating or revoking ends every client that shares it."""
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from rest_framework.authtoken.models import Token


def expires_at(token: Token) -> datetime | None:
    hours = settings.LABELER_TOKEN_TTL_HOURS
    return token.created + timedelta(hours=hours) if hours else None


def is_expired(token: Token) -> bool:
    deadline = expires_at(token)
    return deadline is not None and deadline <= timezone.now()


def issue_token(user) -> Token:
    """The user's token, a new one when there is none or it has expired."""
    with transaction.atomic():
        _lock(user)
        token = Token.objects.filter(user=user).first()
        if token is not None and not is_expired(token):
            return token
        Token.objects.filter(user=user).delete()
        return Token.objects.create(user=user)


def rotate_token(user) -> Token:
    """A new token for the user; the old one stops working at once."""
    with transaction.atomic():
        _lock(user)
        Token.objects.filter(user=user).delete()
        return Token.objects.create(user=user)


def _lock(user) -> None:
    """Two sign-ins or rotations of one user at once: the second waits, then sees the first one's token."""
    get_user_model().objects.select_for_update().filter(pk=user.pk).first()


def revoke_token(user) -> bool:
    """Delete the user's token; False when there was none."""
    return Token.objects.filter(user=user).delete()[0] > 0
