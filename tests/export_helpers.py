"""Data and calls the export tests share: a labelled text project, a labelled image project, downloads."""
import io
import zipfile

from django.core.files.uploadedfile import SimpleUploadedFile

from projects.models import Project, Task
from tests.api_helpers import box, import_tasks, import_texts, sentiment, span, submit
from tests.conftest import client_for
from tests.sample_files import png_bytes, zip_bytes

TEXTS = ("Ann lives in London's east end", "Bob met Carl in Paris", "Nothing to see here")
REFERENCED_URL = "https://images.example.com/photos/street%20scene.jpg"


def label_texts(project: Project, first_annotator, second_annotator) -> list[Task]:
    """Three texts: two annotated by both annotators (they disagree on one), one left unlabelled."""
    ann, bob, nothing = import_texts(project, *TEXTS)
    london = TEXTS[0].index("London")
    # "London" splits the token "London's": the whole token gets the tag.
    submit(first_annotator, ann, [sentiment("Positive"), span(TEXTS[0], 0, 3, "PER"), span(TEXTS[0], london, london + 6, "LOC")])
    submit(second_annotator, ann, [sentiment("Positive"), span(TEXTS[0], 0, 3, "PER")])
    submit(first_annotator, bob, [sentiment("Neutral"), span(TEXTS[1], 0, 3, "PER"), span(TEXTS[1], 8, 12, "PER"), span(TEXTS[1], 16, 21, "LOC")])
    submit(second_annotator, bob, [sentiment("Negative")])
    return [ann, bob, nothing]


def label_images(project: Project, annotator) -> list[Task]:
    """Two stored PNGs boxed by the annotator, and one image referenced by URL with an imported annotation."""
    upload = SimpleUploadedFile("shots.zip", zip_bytes({"wide.png": png_bytes(200, 100), "tall.png": png_bytes(60, 120, "blue")}))
    response = client_for(project.created_by).post(f"/api/projects/{project.pk}/import", {"file": upload}, format="multipart")
    assert response.status_code == 201, response.content
    wide, tall = Task.objects.filter(project=project).order_by("id")
    submit(annotator, wide, [box(10, 20, 50, 40, "Face"), box(60, 0, 40, 100, "Person")])
    submit(annotator, tall, [])  # looked, and nothing was there
    sized = {**box(25, 25, 50, 50, "Person"), "original_width": 640, "original_height": 480}
    [street] = import_tasks(project, [{"data": {"image": REFERENCED_URL}, "annotations": [{"result": [sized]}]}])
    return [wide, tall, street]


def export(user, project: Project, **params):
    return client_for(user).get(f"/api/projects/{project.pk}/export", params)


def body_of(response) -> bytes:
    assert response.status_code == 200, response.content if not response.streaming else response.status_code
    return b"".join(response.streaming_content)


def unzip(content: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        assert archive.testzip() is None
        return {name: archive.read(name) for name in archive.namelist()}
