from django.urls import path

from . import api

urlpatterns = [
    path("projects/<int:pk>/model/", api.ProjectModelView.as_view(), name="api-project-model"),
    path("projects/<int:pk>/model/train/", api.TrainView.as_view(), name="api-project-model-train"),
    path("projects/<int:pk>/model/versions/", api.ModelVersionListView.as_view(), name="api-project-model-versions"),
    path("projects/<int:pk>/model/effort/", api.EffortView.as_view(), name="api-project-model-effort"),
    path("projects/<int:pk>/predict/", api.PredictView.as_view(), name="api-project-predict"),
]
