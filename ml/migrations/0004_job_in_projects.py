# A chunk's job now points at projects.Job (the same table): state only.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('ml', '0003_prelabel_after_training'),
        ('projects', '0007_job'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.AlterField(
                    model_name='prelabelchunk',
                    name='job',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='prelabel_chunks', to='projects.job'),
                ),
            ],
        ),
    ]
