"""What the browser tests do the way an annotator would: open the page, select text, draw on the image."""
from django.core.files.uploadedfile import SimpleUploadedFile

from projects.models import Annotation, Task
from tests.conftest import client_for
from tests.sample_files import png_bytes


def open_labeling(page, live_server, project, task_id=None):
    suffix = f"{task_id}/" if task_id else ""
    page.goto(f"{live_server.url}/projects/{project.pk}/label/{suffix}")
    page.wait_for_selector("body[data-state=ready]")
    return page


def wait_for_task(page, task_id):
    page.wait_for_selector(f"body[data-state=ready][data-task='{task_id}']")


def wait_until_saved(page):
    page.wait_for_selector("#save-status[data-state=saved]")
    page.wait_for_function("() => !JSON.parse(localStorage.getItem(Object.keys(localStorage).find(k => k.startsWith('labeler:outbox')) || 'null') || '[]').length")


def shown_task(page) -> int:
    return int(page.get_attribute("body", "data-task"))


def select_text(page, start: int, end: int):
    """Drag the mouse from the UTF-16 offset `start` to `end` of the task's text, as a person selects words."""
    points = page.evaluate(
        """([start, end]) => {
          const root = document.querySelector('.text-object');
          const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
          const at = (offset, edge) => {
            let node, seen = 0;
            while ((node = walker.nextNode())) {
              if (seen + node.length >= offset) {
                const range = document.createRange();
                const local = offset - seen;
                range.setStart(node, edge === 'start' ? local : local - 1);
                range.setEnd(node, edge === 'start' ? local + 1 : local);
                const rect = range.getClientRects()[0];
                walker.currentNode = root;
                return edge === 'start' ? [rect.left + 1, rect.top + rect.height / 2] : [rect.right - 1, rect.top + rect.height / 2];
              }
              seen += node.length;
            }
          };
          return [at(start, 'start'), at(end, 'end')];
        }""",
        [start, end],
    )
    (x1, y1), (x2, y2) = points
    page.mouse.move(x1, y1)
    page.mouse.down()
    page.mouse.move((x1 + x2) / 2, (y1 + y2) / 2, steps=4)
    page.mouse.move(x2, y2, steps=4)
    page.mouse.up()


def image_box(page):
    return page.locator("img.task-image").bounding_box()


def drag(page, start, end, steps=8):
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(*end, steps=steps)
    page.mouse.up()


def at_fraction(box, fx, fy):
    return box["x"] + box["width"] * fx, box["y"] + box["height"] * fy


def import_images(project, *sizes) -> list[Task]:
    """Upload generated PNGs through the import API (as the manager), one task each."""
    files = [SimpleUploadedFile(f"scene-{index}.png", png_bytes(w, h, "lightblue"), content_type="image/png") for index, (w, h) in enumerate(sizes)]
    last_id = Task.objects.filter(project=project).order_by("-id").values_list("id", flat=True).first() or 0
    response = client_for(project.created_by).post(f"/api/projects/{project.pk}/import", {"file": files}, format="multipart")
    assert response.status_code == 201, response.content
    return list(Task.objects.filter(project=project, id__gt=last_id).order_by("id"))


def annotations_of(user, project):
    return list(Annotation.objects.filter(project=project, completed_by=user).order_by("task_id"))
