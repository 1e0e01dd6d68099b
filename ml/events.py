"""What pre-labeling announces, for the background side to act on (ml/ never queues Celery work itself)."""
from projects.events import Event

# A training is due (the model is marked queued); `then_plan_job` is the pre-labeling job waiting on it, or None.
training_requested = Event("training requested", "project_id", "then_plan_job")
# A pre-labeling job's chunks exist and wait for model workers (sent again by a watchdog while the job runs).
chunks_planned = Event("pre-labeling chunks planned", "job_id", "chunk_ids")
# An ML backend asked to hear of each new annotation (Label Studio's ANNOTATION_CREATED).
annotation_event_due = Event("annotation event due", "annotation_id")
