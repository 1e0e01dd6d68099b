from django.urls import path

from . import views

urlpatterns = [
    path("auth/token/", views.TokenView.as_view(), name="api-token"),
    path("auth/token/rotate/", views.TokenRotateView.as_view(), name="api-token-rotate"),
    path("users/", views.UserListView.as_view(), name="api-users"),
    path("projects/", views.ProjectListView.as_view(), name="api-projects"),
    path("projects/<int:pk>/", views.ProjectDetailView.as_view(), name="api-project"),
    path("projects/<int:pk>/members/", views.MemberListView.as_view(), name="api-members"),
    path("projects/<int:pk>/members/<int:user_id>/", views.MemberDetailView.as_view(), name="api-member"),
    path("projects/<int:pk>/import", views.ImportView.as_view(), name="api-import"),
    path("projects/<int:pk>/import/", views.ImportSlashView.as_view(), name="api-import-slash"),
    path("projects/<int:pk>/tasks/", views.TaskListView.as_view(), name="api-tasks"),
    path("projects/<int:pk>/next/", views.NextTaskView.as_view(), name="api-next-task"),
    path("projects/<int:pk>/release/", views.ReleaseView.as_view(), name="api-release-tasks"),
    path("projects/<int:pk>/history/", views.HistoryView.as_view(), name="api-history"),
    path("projects/<int:pk>/progress/", views.ProgressView.as_view(), name="api-progress"),
    path("tasks/<int:pk>/", views.TaskDetailView.as_view(), name="api-task"),
    path("tasks/<int:pk>/annotations/", views.AnnotationCreateView.as_view(), name="api-task-annotations"),
    path("annotations/<int:pk>/", views.AnnotationDetailView.as_view(), name="api-annotation"),
    path("jobs/<int:pk>/", views.JobDetailView.as_view(), name="api-job"),
    path("jobs/<int:pk>/cancel/", views.JobCancelView.as_view(), name="api-job-cancel"),
]
