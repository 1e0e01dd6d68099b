"""What a sign-in refused for too many failures answers (django-axes' AXES_LOCKOUT_CALLABLE): 429 with a
Retry-After, as JSON for the API and as the login page's own lockout page for the browser."""
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render


def lockout_message() -> tuple[str, int | None]:
    """The sentence users read, and the seconds to wait (None when only an administrator can unlock)."""
    cool_off = settings.AXES_COOLOFF_TIME
    if not cool_off:
        return "Too many failed sign-ins for this account or from this address: ask an administrator to unlock it.", None
    minutes = max(1, round(cool_off.total_seconds() / 60))
    wait = f"{minutes} minute{'s' if minutes != 1 else ''}"
    return f"Too many failed sign-ins for this account or from this address. Try again in {wait}.", int(cool_off.total_seconds())


def lockout_response(request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict | None = None) -> HttpResponse:
    message, retry_after = lockout_message()
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": message}, status=429)
    else:
        response = render(request, "frontend/locked_out.html", {"message": message, "back_url": request.path}, status=429)
    if retry_after:
        response["Retry-After"] = str(retry_after)
    return response
