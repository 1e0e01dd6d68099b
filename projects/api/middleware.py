"""Request checks every API endpoint shares, before any view reads the request."""
from django.http import JsonResponse


class SingleQueryValuesMiddleware:
    """No API parameter takes several values (lists are comma-separated), and Django would silently use only the
    last of `?page=1&page=2`: a repeated query parameter is a 400 naming it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith("/api/"):
            repeated = sorted(name for name, values in request.GET.lists() if len(values) > 1)
            if repeated:
                return JsonResponse({repeated[0]: [f"given {len(request.GET.getlist(repeated[0]))} times; give it once."]}, status=400)
        return self.get_response(request)
