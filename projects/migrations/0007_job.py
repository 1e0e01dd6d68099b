# The Job model moves from workers into the core, keeping its table (workers_job): state only, no SQL.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('projects', '0006_project_setting_validators'),
        ('workers', '0002_job_heartbeat'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name='Job',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(choices=[('import', 'Import'), ('prelabel', 'Pre-labeling'), ('consensus', 'Consensus'), ('export', 'Export')], max_length=16)),
                        ('status', models.CharField(choices=[('queued', 'Queued'), ('running', 'Running'), ('succeeded', 'Succeeded'), ('failed', 'Failed'), ('cancelled', 'Cancelled')], default='queued', max_length=16)),
                        ('progress_done', models.PositiveBigIntegerField(default=0)),
                        ('progress_total', models.PositiveBigIntegerField(default=0)),
                        ('cancel_requested', models.BooleanField(default=False)),
                        ('params', models.JSONField(blank=True, default=dict)),
                        ('result', models.JSONField(blank=True, default=dict)),
                        ('error', models.TextField(blank=True, default='')),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('started_at', models.DateTimeField(blank=True, null=True)),
                        ('finished_at', models.DateTimeField(blank=True, null=True)),
                        ('heartbeat_at', models.DateTimeField(blank=True, null=True)),
                        ('attempts', models.PositiveSmallIntegerField(db_default=0, default=0)),
                        ('created_by', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('project', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='jobs', to='projects.project')),
                    ],
                    options={
                        'db_table': 'workers_job',
                        'ordering': ['-id'],
                        'indexes': [
                            models.Index(fields=['project', 'kind', 'status'], name='job_project_kind_status'),
                            models.Index(condition=models.Q(('status__in', ['queued', 'running'])), fields=['status', 'heartbeat_at'], name='job_unfinished'),
                        ],
                    },
                ),
            ],
        ),
    ]
