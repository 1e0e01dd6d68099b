"""What the labeling page needs to know about a project's label config, as plain JSON for its ES modules.

The parsed LabelConfig says what the controls are; the XML's document order says where they go on screen (and
where the <Header>s sit). Each control says whether the page must refuse a submit without it (`required`).
Every label and choice gets a key: the config's own `hotkey`, else the next free one of
DEFAULT_KEYS, so two controls never share a key and every key can be printed beside its button.
Each control and object names its ES module (`module`, from its registered type) and each object the static files
it needs (`assets`), so the page loads what the config uses and nothing else.
"""
from defusedxml import ElementTree
from django.templatetags.static import static

from projects.control_types import ObjectTag, control_type, object_type
from projects.label_config import ControlTag, LabelConfig, parse_label_config

JS_ROOT = "frontend/js/"

# Keys the page itself uses; default label keys skip them (a config may still claim them on purpose).
RESERVED_KEYS = frozenset("sar?[]+-=0")
DEFAULT_KEYS = "123456789" + "qwertyuiopdfghjklxcvbnm"
# Colours for labels, in order: distinct on white and on photos, legible with dark text on a light tint.
LABEL_COLOURS = (
    "#2563eb", "#dc2626", "#16a34a", "#d97706", "#9333ea", "#0891b2", "#db2777", "#65a30d", "#4f46e5", "#ea580c",
)


def page_config(label_config_xml: str) -> dict:
    """The JSON the labeling page embeds: layout in document order, objects, and controls with keys and colours."""
    config = parse_label_config(label_config_xml)
    objects = {name: object_on_page(obj) for name, obj in config.objects.items()}
    controls = controls_with_keys(config)
    # Each module once, for the template's <link rel="modulepreload">: fetched while the page's own JS loads.
    modules = dict.fromkeys(entry["module"] for entry in [*objects.values(), *controls.values()] if entry["module"])
    return {"layout": layout(label_config_xml, config), "objects": objects, "controls": controls, "modules": list(modules)}


def object_on_page(obj: ObjectTag) -> dict:
    known = object_type(obj.tag)
    assets = known.assets_for(obj)
    return {
        "name": obj.name, "kind": obj.kind, "field": obj.data_field, "module": static(JS_ROOT + known.js_module),
        "options": obj.options,
        "assets": {
            "css": [static(path) for path in assets if path.endswith(".css")],
            "js": [static(path) for path in assets if path.endswith(".js")],
        },
    }


def page_assets(page: dict) -> dict[str, list[str]]:
    """The static files the page's objects need, each once, in config order: what the page's <head> loads."""
    assets: dict[str, list[str]] = {"css": [], "js": []}
    for obj in page["objects"].values():
        for kind, urls in obj["assets"].items():
            assets[kind].extend(url for url in urls if url not in assets[kind])
    return assets


def layout(label_config_xml: str, config: LabelConfig) -> list[dict]:
    """Headers, objects and controls in the order the config lists them."""
    root = ElementTree.fromstring(label_config_xml, forbid_dtd=True)
    items = []
    for element in root.iter():
        name = element.get("name")
        if element.tag == "Header":
            items.append({"kind": "header", "text": element.get("value", "")})
        elif name in config.objects and object_type(element.tag) is not None:
            items.append({"kind": "object", "name": name})
        elif name in config.controls:
            items.append({"kind": "control", "name": name})
    return items


def controls_with_keys(config: LabelConfig) -> dict[str, dict]:
    taken = {key.lower() for control in config.controls.values() for key in control.hotkeys.values()}
    taken |= {key.lower() for control in config.controls.values() for key in control_type(control.tag).page_keys(control)}
    free = (key for key in DEFAULT_KEYS if key not in taken and key not in RESERVED_KEYS)
    controls = {}
    for name, control in config.controls.items():
        values = []
        for index, value in enumerate(control.values):
            key = control.hotkeys.get(value, "").lower() or next(free, "")
            values.append({"value": value, "key": key, "colour": LABEL_COLOURS[index % len(LABEL_COLOURS)]})
        controls[name] = {
            "name": name,
            "tag": control.tag,
            "type": control.result_type,
            "toName": control.to_name,
            "module": static(JS_ROOT + control_type(control.tag).js_module),
            "multiple": control.multiple,
            "required": required_on_page(control),
            "values": values,
            "options": control.options,  # the type's own attributes (a rating's maxRating, a Pairwise's allow_tie)
        }
    return controls


def required_on_page(control: ControlTag) -> bool:
    """What the page refuses to submit without: what the config says, else what the control's type asks for
    (a single-choice <Choices>: a classification left blank is almost always a slip of the finger)."""
    if control.required is not None:
        return control.required
    return control_type(control.tag).required_on_page_by_default(control)
