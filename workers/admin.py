"""Jobs in the admin: status and progress of imports and, later, pre-labeling, consensus and exports."""
from django.contrib import admin

from projects.admin import ManagedRowsMixin

from projects import jobs
from projects.models import Job


@admin.register(Job)
class JobAdmin(ManagedRowsMixin, admin.ModelAdmin):
    list_display = ["id", "kind", "project", "status", "progress", "rate_and_errors", "attempts", "created_by", "created_at", "finished_at"]
    list_filter = ["kind", "status"]
    list_select_related = ["project", "created_by"]
    readonly_fields = [field.name for field in Job._meta.fields] + ["progress", "rate_and_errors"]
    actions = ["cancel"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.display(description="progress")
    def progress(self, job: Job) -> str:
        if not job.progress_total:
            return "-"
        return f"{job.progress_done} / {job.progress_total} ({100 * job.progress_done / job.progress_total:.0f}%)"

    @admin.display(description="rate, errors")
    def rate_and_errors(self, job: Job) -> str:
        """What a pre-labeling job keeps in its result: tasks per second so far, and tasks that got no prediction."""
        if "rate_per_second" not in job.result:
            return "-"
        return f"{job.result['rate_per_second'] or 0:,.0f}/s, {job.result.get('errors', 0)} errors"

    @admin.action(description="Cancel the selected jobs")
    def cancel(self, request, queryset):
        for job in queryset:
            jobs.request_cancel(job)
        self.message_user(request, "Cancellation requested.")
