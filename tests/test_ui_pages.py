"""The annotator's pages as the server renders them, and the label-config JSON the labeling page is built from."""
import json

import pytest
from django.test import Client

from frontend.labeling import page_config
from ml.management.commands.seed_demo import IMAGE_CONFIG as DEMO_IMAGE_CONFIG, TEXT_CONFIG as DEMO_TEXT_CONFIG
from tests.api_helpers import import_texts, submit
from tests.conftest import TEXT_CONFIG


def browser_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def embedded_page(response) -> dict:
    html = response.content.decode()
    start = html.index('<script id="labeler-page" type="application/json">') + len('<script id="labeler-page" type="application/json">')
    return json.loads(html[start:html.index("</script>", start)])


def keys_of(config: dict) -> dict[str, str]:
    return {f"{name}.{entry['value']}": entry["key"] for name, control in config["controls"].items() for entry in control["values"]}


def test_config_keys_come_from_hotkeys_then_defaults_without_clashes():
    keys = keys_of(page_config(TEXT_CONFIG))
    assert keys == {
        "sentiment.Positive": "p", "sentiment.Negative": "1", "sentiment.Neutral": "2",
        "entities.PER": "3", "entities.LOC": "4", "entities.ORG": "5",
    }
    assert keys_of(page_config(DEMO_TEXT_CONFIG)) == {
        "sentiment.Positive": "1", "sentiment.Negative": "2", "sentiment.Neutral": "3",
        "entities.PER": "p", "entities.ORG": "o", "entities.LOC": "l", "entities.PRODUCT": "r",
    }


def test_default_keys_skip_the_pages_own_keys_and_never_repeat():
    labels = "".join(f'<Label value="L{index}"/>' for index in range(30))
    config = page_config(f'<View><Text name="t" value="$text"/><Labels name="l" toName="t">{labels}</Labels></View>')
    keys = [entry["key"] for entry in config["controls"]["l"]["values"]]
    assert len(set(keys)) == len(keys) == 30
    assert not set(keys) & set("sar?[]+-=0")


def test_layout_keeps_document_order_with_headers():
    config = page_config(DEMO_IMAGE_CONFIG)
    assert config["layout"] == [
        {"kind": "header", "text": "Draw a box around every face and every person"},
        {"kind": "object", "name": "image"},
        {"kind": "control", "name": "objects"},
    ]
    assert config["objects"]["image"] == {
        "name": "image", "kind": "image", "field": "image", "module": "/static/frontend/js/objects/image.js", "options": {},
        "assets": {"css": ["/static/frontend/vendor/annotorious/annotorious.css"],
                   "js": ["/static/frontend/vendor/annotorious/annotorious.js"]},
    }
    control = config["controls"]["objects"]
    assert (control["type"], control["toName"], control["multiple"]) == ("rectanglelabels", "image", False)
    assert control["module"] == "/static/frontend/js/controls/rectanglelabels.js"
    assert config["modules"] == [config["objects"]["image"]["module"], control["module"]]  # each once, for modulepreload
    assert [entry["colour"] for entry in control["values"]] == ["#2563eb", "#dc2626"]


def test_home_lists_the_annotators_projects_with_their_progress(text_project, image_project, annotator, outsider):
    first, _second = import_texts(text_project, "One.", "Two.")
    submit(annotator, first)
    html = browser_for(annotator).get("/").content.decode()
    assert "Reviews" in html and "Faces" in html
    assert f'data-project="{text_project.pk}"' in html
    assert 'data-done="1" data-remaining="1"' in html
    assert "not a member of any project" in browser_for(outsider).get("/").content.decode()


def test_project_page_shows_instructions_and_a_start_key(text_project, annotator, outsider):
    text_project.instructions = "Be careful with sarcasm."
    text_project.save()
    response = browser_for(annotator).get(f"/projects/{text_project.pk}/")
    html = response.content.decode()
    assert "Be careful with sarcasm." in html and "Start labeling" in html and "<kbd>Enter</kbd>" in html
    assert browser_for(outsider).get(f"/projects/{text_project.pk}/").status_code == 404


def test_labeling_page_embeds_the_config_and_progress(text_project, image_project, annotator):
    (task,) = import_texts(text_project, "Hello.")
    page = embedded_page(browser_for(annotator).get(f"/projects/{text_project.pk}/label/"))
    assert page["project"]["id"] == text_project.pk
    assert page["config"] == page_config(text_project.label_config)
    assert page["progress"] == {"done": 0, "skipped": 0, "remaining": 1}
    assert page["openTask"] is None and page["userId"] == annotator.pk

    editing = embedded_page(browser_for(annotator).get(f"/projects/{text_project.pk}/label/{task.pk}/"))
    assert editing["openTask"] == task.pk
    # A task of another project is not opened under this one.
    assert browser_for(annotator).get(f"/projects/{image_project.pk}/label/{task.pk}/").status_code == 404


def test_image_projects_load_annotorious_and_text_projects_do_not(text_project, image_project, annotator):
    assert "annotorious.js" in browser_for(annotator).get(f"/projects/{image_project.pk}/label/").content.decode()
    text_page = browser_for(annotator).get(f"/projects/{text_project.pk}/label/")
    assert text_page.status_code == 200 and "annotorious.js" not in text_page.content.decode()


@pytest.mark.parametrize("path", ["/", "/projects/1/", "/projects/1/label/"])
def test_pages_ask_anonymous_visitors_to_log_in(client, db, path):
    response = client.get(path)
    assert response.status_code == 302 and response["Location"].startswith("/login/")
