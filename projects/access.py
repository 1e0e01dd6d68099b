"""Who may see and change what. Every view fetches objects through these helpers, so none forgets a check.

Outsiders get 404 (a project's existence is not disclosed); members without the right role get 403.
"""
from django.db.models import Case, Count, Exists, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Cast, Coalesce
from django.http import Http404
from rest_framework.exceptions import PermissionDenied

from projects.models import Job

from .models import Annotation, Project, ProjectMember, Role, Task

MANAGE = frozenset({Role.MANAGER})
REVIEW = frozenset({Role.MANAGER, Role.REVIEWER})


def is_admin(user) -> bool:
    """Superusers act as managers of every project. Staff status alone only opens the admin: a project
    manager needs it to log in there, and it must not widen what they see through the API."""
    return bool(user.is_superuser)


def projects_for(user) -> QuerySet[Project]:
    projects = Project.objects.all()
    if is_admin(user):
        return projects
    return projects.filter(members__user=user)


def projects_with_role(user) -> QuerySet[Project]:
    """The user's projects, each annotated with `user_role` as role_in would answer it."""
    if is_admin(user):
        return projects_for(user).annotate(user_role=Value(Role.MANAGER))
    own_role = ProjectMember.objects.filter(project=OuterRef("pk"), user=user).values("role")[:1]
    return projects_for(user).annotate(user_role=Subquery(own_role))


def role_in(user, project: Project) -> str | None:
    """The user's role in the project; superusers act as managers everywhere."""
    if is_admin(user):
        return Role.MANAGER
    return ProjectMember.objects.filter(project=project, user=user).values_list("role", flat=True).first()


def get_project_for(user, project_id, *, roles: frozenset | None = None) -> Project:
    return _checked(projects_with_role(user).filter(pk=project_id).first(), roles)  # one query: the project and the role


def get_project_with_counts_for(user, project_id, *, roles: frozenset | None = None) -> Project:
    """get_project_for's project, with the annotation count the user may see (with_visible_annotation_counts)."""
    projects = with_visible_annotation_counts(projects_with_role(user), user)
    return _checked(projects.filter(pk=project_id).first(), roles)


def _checked(project: Project | None, roles: frozenset | None) -> Project:
    role = project.user_role if project else None
    if role is None:
        raise Http404("No project with that id among yours.")
    if roles is not None and role not in roles:
        raise PermissionDenied(f"This needs the {' or '.join(sorted(roles))} role in project {project.pk}; you are {role}.")
    return project


def get_task_for(user, task_id) -> Task:
    """The task, its `project` read through projects_with_role so that it carries the user's `user_role`."""
    task = Task.objects.filter(pk=task_id).first()
    project = projects_with_role(user).filter(pk=task.project_id).first() if task else None
    if project is None or project.user_role is None:
        raise Http404("No task with that id in your projects.")
    task.project = project  # the relation's own cache, filled with the role-annotated row
    return task


def sees_others_work(user, project: Project) -> bool:
    """Managers and reviewers see everyone's annotations and the consensus; annotators only when the project is
    not blind."""
    role = getattr(project, "user_role", None) or role_in(user, project)
    return role in REVIEW or not project.blind


def reads_predictions_when_hidden(user, project: Project) -> bool:
    """Managers and reviewers see a task's predictions even where annotators may not (blind judging)."""
    role = getattr(project, "user_role", None) or role_in(user, project)
    return role in REVIEW


def visible_annotations(user, project: Project, annotations: QuerySet[Annotation]) -> QuerySet[Annotation]:
    """In a blind project an annotator sees only their own annotations."""
    if sees_others_work(user, project):
        return annotations
    return annotations.filter(completed_by=user)


def get_annotation_for(user, annotation_id, *, write: bool = False) -> Annotation:
    annotation = Annotation.objects.select_related("task", "project").filter(pk=annotation_id).first()
    role = role_in(user, annotation.project) if annotation else None
    own = annotation is not None and annotation.completed_by_id == user.pk
    if role is None or not (own or role in REVIEW or not annotation.project.blind):
        raise Http404("No annotation with that id that you may see.")
    if write and role != Role.MANAGER and annotation.completed_by_id != user.pk:
        raise PermissionDenied("Only the annotation's author or a project manager may change it.")
    return annotation


def get_job_for(user, job_id) -> Job:
    """A job is visible to whoever started it and to the managers of its project; to anyone else it does not exist."""
    job = Job.objects.select_related("project").filter(pk=job_id).first()
    if job is None or (job.created_by_id != user.pk and role_in(user, job.project) != Role.MANAGER):
        raise Http404("No job with that id.")
    return job


def with_visible_annotation_counts(projects: QuerySet[Project], user) -> QuerySet[Project]:
    """projects_with_role's projects, each with `own_annotation_count`: the annotation count the user may see
    (their own in a blind project they annotate, the project's otherwise)."""
    own = (
        Annotation.objects.filter(project=OuterRef("pk"), completed_by=user, was_cancelled=False)
        .order_by().values("project").annotate(total=Count("pk")).values("total")
    )
    return projects.annotate(own_annotation_count=Case(
        When(Q(blind=True, user_role=Role.ANNOTATOR), then=Coalesce(Subquery(own), 0)),
        default=F("annotation_count"), output_field=IntegerField(),
    ))


def with_own_task_counts(tasks: QuerySet[Task], user) -> QuerySet[Task]:
    """Tasks with `own_annotation_count` and `own_cancelled_count`: the counts a blind project's annotator may see
    (0 or 1 each: one annotation per annotator per task)."""
    mine = Annotation.objects.filter(task=OuterRef("pk"), completed_by=user)
    return tasks.annotate(
        own_annotation_count=Cast(Exists(mine.filter(was_cancelled=False)), IntegerField()),
        own_cancelled_count=Cast(Exists(mine.filter(was_cancelled=True)), IntegerField()),
    )
