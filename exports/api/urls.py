from django.urls import path

from . import views

urlpatterns = [
    path("projects/<int:pk>/export", views.ProjectExportView.as_view(), name="api-export"),
    path("projects/<int:pk>/exports/", views.ProjectSnapshotListView.as_view(), name="api-project-exports"),
    path("exports/<int:pk>/", views.SnapshotDetailView.as_view(), name="api-export-snapshot"),
    path("exports/<int:pk>/download", views.SnapshotDownloadView.as_view(), name="api-export-download"),
]
