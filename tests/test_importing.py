"""projects.imports.readers on its own: the file readers' edge cases, without a database."""
import io
import json

import pytest
from PIL import Image

from projects.imports.readers import ImportError_, ImportLimits, check_supported, parse_json_body, read_tasks
from projects.label_config import parse_label_config
from tests.conftest import IMAGE_CONFIG, TEXT_CONFIG
from tests.sample_files import png_bytes, zip_bytes

TEXT = parse_label_config(TEXT_CONFIG)
IMAGE = parse_label_config(IMAGE_CONFIG)
LIMITS = ImportLimits(max_bytes=1_000_000, max_image_pixels=1_000_000, zip_max_entries=5, zip_max_uncompressed_bytes=500_000)
BOM = b"\xef\xbb\xbf"


def read(name: str, content: bytes, config=TEXT, limits=LIMITS) -> list:
    return list(read_tasks(name, io.BytesIO(content), config, limits))


def texts(name: str, content: bytes) -> list[str]:
    return [task.data["text"] for task in read(name, content)]


def refusal(name: str, content: bytes, config=TEXT, limits=LIMITS) -> ImportError_:
    with pytest.raises(ImportError_) as error:
        read(name, content, config, limits)
    return error.value


def image_bytes(image_format: str, size=(5, 4)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "white").save(buffer, format=image_format)
    return buffer.getvalue()


def encrypted_zip() -> bytes:
    """A ZIP whose one entry says it is password-protected (bit 0 of its flags)."""
    content = bytearray(zip_bytes({"a.png": png_bytes()}))
    for signature, flag_offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        content[content.index(signature) + flag_offset] |= 0x01
    return bytes(content)


# --- JSON ------------------------------------------------------------------------------------------------------

def test_json_list_with_bom_and_crlf():
    assert texts("t.json", BOM + b'[\r\n{"text": "a"},\r\n{"text": "b"}\r\n]\r\n') == ["a", "b"]


def test_json_object_with_bom():
    assert texts("t.json", BOM + b'\n{"data": {"text": "a"}}') == ["a"]


def test_json_after_a_long_run_of_whitespace():
    assert texts("t.json", b"\n" * 100_000 + b'[{"text": "a"}]') == ["a"]


def test_json_keeps_unicode_and_number_types():
    content = json.dumps([{"text": "\u65e5\u672c\u8a9e \U0001f600 caf\u00e9", "score": 0.25, "n": 10**30}], ensure_ascii=False)
    task = read("t.json", content.encode())[0]
    assert task.data["text"] == "\u65e5\u672c\u8a9e \U0001f600 caf\u00e9"
    assert task.data["score"] == 0.25 and type(task.data["score"]) is float
    assert task.data["n"] == 10**30


def test_label_studio_export_shape():
    export = [{
        "id": 4, "inner_id": 4, "total_annotations": 1, "cancelled_annotations": 0, "file_upload": "x.json",
        "data": {"text": "Ann"}, "meta": {"batch": 2}, "drafts": [], "updated_by": None,
        "annotations": [{"id": 1, "completed_by": {"id": 1, "email": "a@b.c"}, "result": [], "was_cancelled": True}],
        "predictions": [{"id": 2, "model_version": 3, "score": None, "result": []}],
    }]
    task = read("export.json", json.dumps(export).encode())[0]
    assert task.data == {"text": "Ann"}
    # Label Studio's identifiers ride along in meta; its counters and drafts are dropped on purpose (README).
    assert task.meta == {"batch": 2, "label_studio": {"id": 4, "inner_id": 4, "file_upload": "x.json", "updated_by": None}}
    assert task.annotations[0]["was_cancelled"] is True
    assert task.predictions[0]["model_version"] == 3


def test_bare_task_may_name_a_field_data():
    config = parse_label_config('<View><Text name="t" value="$data"/><TextArea name="n" toName="t"/></View>')
    tasks = list(read_tasks("t.json", io.BytesIO(b'[{"data": "plain text"}]'), config, LIMITS))
    assert tasks[0].data == {"data": "plain text"}


def test_scalar_in_a_json_list_names_its_position():
    assert "t.json: task 2: a task must be a JSON object, not int" in str(refusal("t.json", b'[{"text": "a"}, 7]'))


@pytest.mark.parametrize("content, message", [
    (b'[{"text": "a"}] trailing', "line 1 column 17: Extra data"),
    (b'[{"text": "a"}, {"text": "caf\xe9"}]', "not UTF-8"),
    (b'[{"text": "a", "x": -Infinity}]', "-Infinity is not a JSON value"),
    (b'{"text": NaN}', "NaN is not a JSON value"),
    (b'{"text": "a", "x": ' + b"[" * 3000 + b"]" * 3000 + b"}", "nested deeper than 100 levels"),
    (b"[" + b"[" * 200, "nested deeper than 100 levels"),
])
def test_broken_json_says_what_and_where(content, message):
    error = refusal("t.json", content)
    assert str(error).startswith("t.json: malformed JSON")
    assert message in str(error)
    assert error.status == 400


def task_nested(depth: int) -> dict:
    """A task whose innermost list sits `depth` levels down, counting the task object as level 1."""
    nested: object = []
    for _ in range(depth - 2):
        nested = [nested]
    return {"text": "a", "deep": nested}


@pytest.mark.parametrize("depth, accepted", [(100, True), (101, False)])
@pytest.mark.parametrize("source", ["json list", "json object", "jsonl", "body"])
def test_every_source_nests_to_the_same_limit(source, depth, accepted):
    task = task_nested(depth)
    readers = {
        "json list": lambda: read("t.json", json.dumps([task]).encode()),
        "json object": lambda: read("t.json", json.dumps(task).encode()),
        "jsonl": lambda: read("t.jsonl", json.dumps(task).encode()),
        "body": lambda: list(parse_json_body([task], TEXT)),
    }
    if accepted:
        assert readers[source]()[0].data == task
    else:
        with pytest.raises(ImportError_, match="nested deeper than 100 levels"):
            readers[source]()


# --- JSON lines ------------------------------------------------------------------------------------------------

def test_jsonl_with_bom_blank_lines_crlf_and_unicode():
    content = BOM + b'{"text": "a"}\r\n\r\n   \r\n' + '{"text": "\u00fcber"}\r\n'.encode() + BOM + b'{"text": "c"}'
    assert texts("t.jsonl", content) == ["a", "\u00fcber", "c"]


@pytest.mark.parametrize("content, message", [
    (b'{"text": "a"}\n\n{"text": }\n', "t.jsonl: malformed JSON on line 3, column 10: Expecting value"),
    (b'{"text": "a"}\n{"text": "\xff"}\n', "line 2, byte 10: not UTF-8 text"),
    (b'{"text": NaN}\n', "line 1, NaN is not a JSON value"),
    (b'{"text": "a"}\n' + b"[" * 5000 + b"\n", "line 2, nested deeper than 100 levels"),
    (b'{"text": "a"}\n[1, 2]\n', "t.jsonl: line 2: a task must be a JSON object, not list"),
])
def test_broken_jsonl_names_the_line(content, message):
    assert message in str(refusal("t.jsonl", content))


# --- CSV, TSV, TXT ---------------------------------------------------------------------------------------------

def test_csv_with_bom_crlf_quotes_and_unicode():
    content = BOM + ' text , lang\r\n"Hello, ""world""",en\r\n"two\r\nlines",en\r\n\r\n\u00e9t\u00e9,fr\r\n'.encode()
    tasks = read("t.csv", content)
    assert [task.data for task in tasks] == [
        {"text": 'Hello, "world"', "lang": "en"}, {"text": "two\r\nlines", "lang": "en"}, {"text": "\u00e9t\u00e9", "lang": "fr"}]


def test_tsv_keeps_commas():
    assert [task.data for task in read("t.tsv", b"text\tid\na, b\t1\n")] == [{"text": "a, b", "id": "1"}]


def test_csv_header_only_is_no_tasks():
    assert read("t.csv", b"text\r\n") == []


@pytest.mark.parametrize("content, message", [
    (b"", "t.csv: the first line must name the columns"),
    (b" , \nx,y\n", "t.csv: the first line must name the columns"),
    (b"text,lang\na,en\nb,en,extra\n", "t.csv: line 3 has 3 fields but the header has 2"),
    (b'text\n"multi\nline"\nb,c\n', "t.csv: line 4 has 2 fields"),
    (b"text\nab\x00c\n", "t.csv: line 2: text holds a NUL character"),
    (b"text\n\xff\n", "t.csv: not UTF-8 text"),
    (b"title\nx\n", 't.csv: line 2: task data has no "text" field'),
])
def test_broken_csv_names_the_line(content, message):
    assert message in str(refusal("t.csv", content))


def test_txt_lines_with_bom_crlf_cr_and_unicode():
    content = BOM + b"  indented\r\nsecond\rthird\n\n" + "\u0444\u0438\u043d\u0430\u043b".encode()
    assert texts("t.txt", content) == ["  indented", "second", "third", "\u0444\u0438\u043d\u0430\u043b"]


def test_txt_needs_a_single_text_object():
    assert "t.txt: a .txt import needs a label config with exactly one <Text> object" in str(refusal("t.txt", b"a\n", IMAGE))


# --- JSON bodies -----------------------------------------------------------------------------------------------

def test_body_list_and_single_object():
    assert [t.data for t in parse_json_body([{"text": "a"}, {"data": {"text": "b"}}], TEXT)] == [{"text": "a"}, {"text": "b"}]
    assert [t.data for t in parse_json_body({"text": "c"}, TEXT)] == [{"text": "c"}]


@pytest.mark.parametrize("task, message", [
    ({"text": "a", "x": float("nan")}, "task 1: nan is not a number JSON allows"),
    ({"text": "a", "bad\x00key": 1}, "task 1: text holds a NUL character"),
    ({"data": {"text": "a"}, "predictions": [{"score": 10**400, "result": []}]}, "predictions[0].score must be a number"),
    ({"data": {"text": "a"}, "annotations": [{"lead_time": True, "result": []}]}, "annotations[0].lead_time must be a number"),
    ({"data": {"text": "a"}, "annotations": ["done"]}, "annotations[0] must be an object with a result list"),
    ({"data": {"text": "a"}, "predictions": [{"model_version": {"v": 1}, "result": []}]}, "model_version must be a string"),
])
def test_body_values_a_database_cannot_store_are_refused(task, message):
    with pytest.raises(ImportError_) as error:
        list(parse_json_body([task], TEXT))
    assert message in str(error.value)


def test_body_nested_too_deep_is_refused_without_recursion():
    nested: object = {}
    for _ in range(50_000):
        nested = {"x": nested}
    with pytest.raises(ImportError_, match="task 1: nested deeper than 100 levels"):
        list(parse_json_body([{"text": "a", "deep": nested}], TEXT))


# --- images and ZIPs -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, image_format", [("a.jpg", "JPEG"), ("a.gif", "GIF"), ("a.bmp", "BMP"),
                                                ("a.webp", "WEBP"), ("a.tiff", "TIFF"), ("A.PNG", "PNG")])
def test_each_image_format_becomes_a_task(name, image_format):
    task = read(name, image_bytes(image_format), IMAGE)[0]
    assert task.meta == {"file_name": name, "image_width": 5, "image_height": 4}
    with task.image.open() as stored:
        assert stored.read(2) == image_bytes(image_format)[:2]


@pytest.mark.parametrize("image_format", ["ICO", "PCX", "TGA"])
def test_formats_browsers_cannot_show_are_refused_whatever_their_name(image_format):
    error = refusal("photo.png", image_bytes(image_format, (16, 16)), IMAGE)
    assert "photo.png: not an image Labeler can read" in str(error)


def test_image_over_the_byte_limit_is_413():
    limits = ImportLimits(max_bytes=50, max_image_pixels=10**6, zip_max_entries=5, zip_max_uncompressed_bytes=10**6)
    error = refusal("a.png", png_bytes(), IMAGE, limits)
    assert error.status == 413 and "over the 50-byte limit" in str(error)


def test_zip_skips_folders_and_archiver_junk():
    archive = zip_bytes({"set/": b"", "set/a.png": png_bytes(), "set/Thumbs.db": b"x", "set/._a.png": b"x", "__MACOSX/set/a.png": b"x"})
    assert [task.meta["file_name"] for task in read("s.zip", archive, IMAGE)] == ["a.png"]


@pytest.mark.parametrize("entries, message", [
    ({"..\\evil.png": png_bytes()}, "entry '..\\\\evil.png' points outside the archive"),
    ({"a/../../evil.png": png_bytes()}, "points outside the archive"),
    ({f"{i}.png": png_bytes() for i in range(6)}, "s.zip: 6 entries is over the limit of 5"),
    ({"a.png": png_bytes() + bytes(300_000), "b.png": png_bytes() + bytes(300_000)}, "over the limit of 500000 (a ZIP bomb?)"),
    ({"dir/.png": png_bytes()}, "s.zip: dir/.png is not an image"),
])
def test_zip_refusals(entries, message):
    assert message in str(refusal("s.zip", zip_bytes(entries), IMAGE))


def test_encrypted_zip_entry_is_refused():
    assert "s.zip/a.png: the archive entry cannot be unpacked" in str(refusal("s.zip", encrypted_zip(), IMAGE))


@pytest.mark.parametrize("name", ["t.JSON", "t.Jsonl", "photo.JPEG", "x.tar.ZIP"])
def test_extensions_are_case_insensitive(name):
    check_supported(name)


@pytest.mark.parametrize("name", ["t.xml", "t.svg", "README", "t.json.exe"])
def test_unsupported_names_are_415(name):
    with pytest.raises(ImportError_) as error:
        check_supported(name)
    assert error.value.status == 415 and name in str(error.value)
