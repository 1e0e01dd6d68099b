"""Quality in the admin: each project's quality page (agreement, histogram, annotators), hung under the project."""
from projects.admin import ProjectAdmin

from .admin_views import project_quality

ProjectAdmin.project_pages.append(("quality/", project_quality, "projects_project_quality"))
