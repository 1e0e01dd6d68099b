# Job now lives in projects (same table); workers keeps the consensus outbox. State only.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('workers', '0002_job_heartbeat'),
        ('projects', '0007_job'),
        ('exports', '0002_job_in_projects'),
        ('ml', '0004_job_in_projects'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[migrations.DeleteModel(name='Job')],
        ),
    ]
