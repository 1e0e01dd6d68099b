from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(template_name="frontend/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("projects/<int:project_id>/", views.project_page, name="project"),
    path("projects/<int:project_id>/label/", views.label_page, name="label"),
    path("projects/<int:project_id>/label/<int:task_id>/", views.label_page, name="label-task"),
    path("data/upload/<int:project_id>/<str:name>", views.UploadedFileView.as_view(), name="uploaded-file"),
]
