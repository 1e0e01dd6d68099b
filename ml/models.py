"""A project's pre-labeling model, the versions it trained, and the chunks of a pre-labeling job.

The chunk rows are how a job over a million tasks stays exact when workers die: each chunk is marked done in
the same short transaction that writes its predictions, so a redelivered chunk finds its row done and stops.
"""
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models


class Engine(models.TextChoices):
    TEXT_CLASSIFIER = "text_classifier", "Text classifier (learns from the labels; Choices on Text)"
    SPAN_TAGGER = "span_tagger", "Span tagger (learns from the labels; Labels on Text)"
    ZERO_SHOT = "zero_shot", "Zero-shot text classifier (sentence embeddings, no labels needed; Choices on Text)"
    DETECTOR = "detector", "OpenCV face and people detector (RectangleLabels on Image)"
    HTTP = "http", "Label Studio ML backend (HTTP)"
    LLM_JUDGE = "llm_judge", "LLM judge (an OpenAI-compatible chat completions server; Pairwise, Rating, Choices on text)"


class StructuredOutput(models.TextChoices):
    JSON_SCHEMA = "json_schema", "response_format json_schema (OpenAI, vLLM, llama.cpp server, Ollama, LM Studio)"
    JSON_OBJECT = "json_object", "response_format json_object with a schema (llama-cpp-python, Together)"
    PROMPT = "prompt", "Only in the prompt (the answer is checked all the same)"


LEARNED_ENGINES = frozenset({Engine.TEXT_CLASSIFIER, Engine.SPAN_TAGGER})
# Ship with their weights: nothing to train, so annotations do not count towards a retraining.
PRETRAINED_ENGINES = frozenset({Engine.ZERO_SHOT, Engine.DETECTOR})


class TrainingState(models.TextChoices):
    IDLE = "idle", "Idle"
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Training"


class ProjectModel(models.Model):
    """The model a project's manager picked, and how it pre-labels and re-trains."""

    project = models.OneToOneField("projects.Project", on_delete=models.CASCADE, related_name="ml_model")
    engine = models.CharField(max_length=32, choices=Engine.choices)
    control = models.CharField(
        max_length=200, blank=True, default="",
        help_text="The control (from_name) the model fills; empty picks the first control the engine can fill.",
    )
    url = models.URLField(
        blank=True, default="", help_text="The ML backend's base URL (engine http), or the LLM server's OpenAI-compatible "
        "base URL ending in /v1 (engine llm_judge).",
    )
    llm_model = models.CharField(
        "LLM model", max_length=200, blank=True, default="", help_text="The model the LLM judge asks for (engine llm_judge).",
    )
    api_key_env = models.CharField(
        "API key variable", max_length=100, blank=True, default="LABELER_LLM_API_KEY",
        help_text="The environment variable of the web and worker processes that holds the LLM server's API key "
        "(sent as a bearer token when it is set). The key itself is never stored.",
    )
    prompt_template = models.TextField(
        blank=True, default="", help_text="The judge's prompt, with $objects, $questions, $keys or an object's "
        "name ($prompt, $a) where they go. Empty uses the built-in template.",
    )
    structured_output = models.CharField(
        max_length=16, choices=StructuredOutput.choices, default=StructuredOutput.JSON_SCHEMA,
        help_text="How the request holds the judge's answer to a JSON schema; the server's dialect.",
    )
    judge_both_orders = models.BooleanField(
        default=True, help_text="Ask each comparison twice, the two responses traded, and trust only an answer that "
        "does not change with the order.",
    )
    fewer_humans_confidence = models.FloatField(
        default=0.0, validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text="When above 0: a task the judge answers with at least this confidence (0-1), the same in both "
        "orders, needs one human check instead of the project's overlap; if the check disagrees, the task goes back "
        "to the full overlap.",
    )
    timeout = models.FloatField(default=30.0, help_text="Seconds to wait for the ML backend's answer to one request.")
    label_map = models.JSONField(
        default=dict, blank=True,
        help_text='Detector class -> project label, e.g. {"face": "Face", "person": "Pedestrian"}. '
        "Empty maps classes to labels of the same name (any case).",
    )
    auto_prelabel = models.BooleanField(default=False, help_text="Pre-label newly imported tasks automatically.")
    prelabel_after_training = models.BooleanField(
        default=False, help_text="After each training that makes a new version, pre-label the unfinished tasks with it.",
    )
    annotation_events = models.BooleanField(
        default=False, help_text="Send the ML backend Label Studio's ANNOTATION_CREATED webhook for each new annotation."
    )
    min_labels = models.PositiveIntegerField(
        default=10, help_text="Labelled tasks a learned model needs before it predicts anything."
    )
    retrain_every = models.PositiveIntegerField(
        default=50, help_text="Re-train after this many new annotations (0: only on demand)."
    )
    active_version = models.ForeignKey(
        "ModelVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Annotations saved since the last training started; the retrain trigger compares it with retrain_every.
    new_labels = models.PositiveIntegerField(default=0, editable=False)
    training_state = models.CharField(
        max_length=16, choices=TrainingState.choices, default=TrainingState.IDLE, editable=False
    )
    training_error = models.TextField(blank=True, default="", editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.get_engine_display()} for {self.project}"

    @property
    def is_learned(self) -> bool:
        return self.engine in LEARNED_ENGINES


class ModelVersion(models.Model):
    """One trained model: its pickled pipeline and how well it did on labels it did not see."""

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="model_versions")
    engine = models.CharField(max_length=32, choices=Engine.choices)
    number = models.PositiveIntegerField()
    version = models.CharField(max_length=200, help_text="The model_version its predictions carry.")
    artifact = models.BinaryField(editable=False)
    metrics = models.JSONField(default=dict, blank=True)
    trained_on = models.PositiveIntegerField(default=0, help_text="Labelled tasks it learned from.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["project", "number"], name="one_model_version_number")]

    def __str__(self) -> str:
        return self.version


class PrelabelChunk(models.Model):
    """A range of task ids of a pre-labeling job; one Celery task runs it."""

    job = models.ForeignKey("projects.Job", on_delete=models.CASCADE, related_name="prelabel_chunks")
    first_task_id = models.BigIntegerField()
    last_task_id = models.BigIntegerField()
    done = models.BooleanField(default=False)
    predicted = models.PositiveIntegerField(default=0)
    empty = models.PositiveIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["job", "done"], name="prelabel_chunk_job_done")]

    def __str__(self) -> str:
        return f"tasks {self.first_task_id}-{self.last_task_id} of job {self.job_id}"
