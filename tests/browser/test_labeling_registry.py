"""The labeling page builds its controls and object views through the JS registry: it loads only the modules its
config names, a new control type is one module, and a type no module provides is said on the page."""
import json
import re

import pytest

from tests.api_helpers import import_texts

from .helpers import open_labeling

PAGE_JSON = re.compile(r'(<script id="labeler-page" type="application/json">)(.*?)(</script>)', re.S)
STARS_URL = "/static/frontend/js/controls/stars.js"
# A control type the project has never had, written the way a contributor would add one: one module that
# registers itself, finds its objects through the page, and brings its own keys and its own idea of an answer.
STARS_MODULE = """
import { el } from "../dom.js";
import { registerControl } from "../registry.js";
import { panel, valueShortcuts } from "./common.js";

class StarsControl {
  constructor(control, { store, objects }) {
    this.control = control;
    this.store = store;
    this.objects = objects(control.toName);
  }
  get kindName() { return "stars"; }
  mount(container) {
    this.output = el("output", { class: "stars" });
    container.append(panel(this.control, `on ${this.objects.map((view) => view.object.name).join(" and ")}`, this.output));
  }
  shortcuts() { return valueShortcuts(this); }
  press(value) {
    const item = this.store.itemsOf(this.control.name)[0];
    const rating = Number(value);
    if (item) this.store.updateValue(item.id, { rating });
    else this.store.add({ from_name: this.control.name, to_name: this.control.toName, type: "stars", value: { rating } });
  }
  answers(item) { return item.value.rating > 0; }
  howToAnswer() { return "give it stars"; }
  render() {
    const item = this.store.itemsOf(this.control.name)[0];
    this.output.textContent = item ? "★".repeat(item.value.rating) : "no stars yet";
  }
}
registerControl("stars", StarsControl);
"""


def serve_with_config(page, change):
    """Serve the labeling page with its embedded config changed by change(config), as a server would have sent it."""
    def rewrite(match):
        embedded = json.loads(match.group(2))
        change(embedded["config"])
        body = json.dumps(embedded).replace("<", "\\u003C").replace(">", "\\u003E").replace("&", "\\u0026")
        return match.group(1) + body + match.group(3)

    def handle(route):
        response = route.fetch()
        route.fulfill(response=response, body=PAGE_JSON.sub(rewrite, response.text()))

    page.route(re.compile(r"/projects/\d+/label/(\d+/)?$"), handle)


def modules_requested(page) -> set[str]:
    requested = set()
    page.on("request", lambda request: requested.add(request.url.split("/static/frontend/js/", 1)[-1]))
    return requested


def module_files(requested: set[str]) -> set[str]:
    return {name for name in requested if name.startswith(("controls/", "objects/"))}


def test_the_page_loads_only_the_modules_its_config_names(live_server, signed_in, annotator, text_project, image_project):
    import_texts(text_project, "The service was quick.")
    page = signed_in(annotator)
    requested = modules_requested(page)
    open_labeling(page, live_server, text_project)
    assert module_files(requested) == {"controls/choices.js", "controls/labels.js", "objects/text.js", "controls/common.js"}

    other = signed_in(annotator)
    requested_image = modules_requested(other)
    open_labeling(other, live_server, image_project)
    assert module_files(requested_image) <= {"controls/rectanglelabels.js", "objects/image.js", "controls/common.js"}
    assert {"controls/rectanglelabels.js", "objects/image.js"} <= module_files(requested_image)
    assert not page.js_errors and not other.js_errors


def test_a_new_control_type_is_one_module(live_server, signed_in, annotator, text_project, screenshot):
    import_texts(text_project, "The room was clean but the staff were slow.")
    page = signed_in(annotator)
    page.route(f"**{STARS_URL}", lambda route: route.fulfill(body=STARS_MODULE, content_type="text/javascript"))

    def add_stars(config):
        config["objects"]["again"] = {**config["objects"]["text"], "name": "again"}  # a second object to point at
        config["layout"] += [{"kind": "object", "name": "again"}, {"kind": "control", "name": "rating"}]
        config["controls"]["rating"] = {
            "name": "rating", "tag": "Stars", "type": "stars", "toName": "text,again", "multiple": False, "required": True,
            "module": STARS_URL, "values": [{"value": str(stars), "key": str(stars + 6), "colour": "#d97706"} for stars in (1, 2, 3)],
        }

    serve_with_config(page, add_stars)
    open_labeling(page, live_server, text_project)
    rating = page.locator(".panel[data-control=rating]")
    assert rating.locator(".panel-hint").inner_text() == "on text and again"  # toName "a,b": both views, by name
    assert rating.locator("output").inner_text() == "no stars yet"
    assert page.locator(".text-object").count() == 2

    page.keyboard.press("p")  # sentiment answered; the rating is required and still missing
    page.keyboard.press("Enter")
    assert rating.locator(".panel-error").inner_text() == "rating is required: give it stars before you submit."
    page.keyboard.press("8")  # its own key, from its own shortcuts()
    assert rating.locator("output").inner_text() == "★★"
    assert rating.locator(".panel-error").count() == 0  # its own answers(): {rating: 2} is an answer

    page.keyboard.press("?")
    help_text = page.locator("#help-body").inner_text().lower()  # the headings are upper case on screen
    assert "rating (stars)" in help_text and "sentiment (choice)" in help_text and "entities (span label)" in help_text
    screenshot(page, "labeling-registry-new-type")
    assert not page.js_errors


@pytest.mark.parametrize("broken, message", [
    ({"type": "dial", "module": ""}, 'the control type "dial" has no module on this page. Ask a manager'),
    ({"module": "/static/frontend/js/controls/nowhere.js"}, "could not load /static/frontend/js/controls/nowhere.js"),
])
def test_a_control_without_a_module_is_said_on_the_page(live_server, signed_in, annotator, text_project, broken, message):
    import_texts(text_project, "Fine.")
    page = signed_in(annotator)
    serve_with_config(page, lambda config: config["controls"]["sentiment"].update(broken))
    page.goto(f"{live_server.url}/projects/{text_project.pk}/label/")
    page.wait_for_selector("body[data-state=error]")
    assert message in page.locator(".banner-error").inner_text()
    assert page.locator("#workspace").is_hidden()
    assert not page.js_errors
