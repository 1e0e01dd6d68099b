from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

urlpatterns = [
    # Jobs moved from the workers app into the core; old admin links still land on them.
    re_path(r"^admin/workers/job/(?P<rest>.*)$", RedirectView.as_view(url="/admin/projects/job/%(rest)s", permanent=True)),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/", include("projects.api.urls")),
    path("api/", include("quality.api.urls")),
    path("", include("quality.urls")),
    path("api/", include("ml.urls")),
    path("api/", include("exports.api.urls")),
    path("", include("frontend.urls")),
]

handler404 = "projects.api.errors.not_found"
# A database outage is a 503 with Retry-After (labeler/outage.py), whatever raised it.
handler500 = "labeler.outage.server_error"
