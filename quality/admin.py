"""Quality in the admin: each project's quality and model leaderboard pages, hung under the project."""
from projects.admin import ProjectAdmin

from .admin_views import project_leaderboard, project_quality
from .judge_page import project_judges

ProjectAdmin.project_pages.append(("quality/", project_quality, "projects_project_quality"))
ProjectAdmin.project_pages.append(("leaderboard/", project_leaderboard, "projects_project_leaderboard"))
ProjectAdmin.project_pages.append(("judges/", project_judges, "projects_project_judges"))
