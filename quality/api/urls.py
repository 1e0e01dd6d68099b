from django.urls import path

from . import views

urlpatterns = [
    path("projects/<int:pk>/agreement/", views.AgreementView.as_view(), name="api-agreement"),
    path("projects/<int:pk>/annotators/", views.AnnotatorsView.as_view(), name="api-annotators"),
    path("projects/<int:pk>/judges/", views.JudgesView.as_view(), name="api-judges"),
    path("projects/<int:pk>/leaderboard/", views.LeaderboardView.as_view(), name="api-leaderboard"),
    path("projects/<int:pk>/consensus/", views.ConsensusJobView.as_view(), name="api-consensus-job"),
    path("projects/<int:pk>/review/next/", views.ReviewNextView.as_view(), name="api-review-next"),
    path("tasks/<int:pk>/review/", views.ReviewDecisionView.as_view(), name="api-task-review"),
]
