"""A chat transcript (<Paragraphs>) and a Markdown response (<Text markdown="true">) on the labeling page: bubbles
by speaker, Markdown rendered (code, lists), model text that tries to inject HTML shown as text and never run,
the dialogue scrolled by its keys, a rubric answered by keyboard; at 1440 px and on a 390 px phone."""
import pytest

from projects import services
from projects.models import Role
from tests.api_helpers import import_tasks

from .helpers import annotations_of, open_labeling, wait_until_saved

CONFIG = """<View>
  <Header value="Is the answer helpful?"/>
  <Paragraphs name="chat" value="$dialogue" layout="dialogue" nameKey="role" textKey="content"/>
  <Text name="answer" value="$response" markdown="true"/>
  <Choices name="helpful" toName="chat"><Choice value="Yes"/><Choice value="No"/></Choices>
</View>"""
# What a model might answer, or an attacker put into a data set: each of these must stay text.
PAYLOADS = ('<script>window.__xss = "script"</script>', '<img src="x" onerror="window.__xss = \'img\'">',
            "[click me](javascript:window.__xss='link')", "![pixel](https://tracker.invalid/pixel.png)")
ASSISTANT = ("Sure. Sort it like this:\n\n"
             "```python\nnumbers.sort(reverse=True)\nprint(numbers)  # a comment wider than a phone, which the block scrolls\n```\n\n"
             "- fast\n- in place\n\nSee [the docs](https://docs.python.org/3/).")
EARLIER = [message for turn in range(6) for message in (
    {"role": "user", "content": f"Earlier question {turn}?"}, {"role": "assistant", "content": f"Earlier answer {turn}."})]
DIALOGUE = [{"role": "system", "content": "You are a helpful assistant."}, *EARLIER,
            {"role": "user", "content": "How do I sort a list backwards? " + " ".join(PAYLOADS)},
            {"role": "assistant", "content": ASSISTANT}]
RESPONSE = "## Two ways\n\n1. `sorted(xs, reverse=True)`\n2. `xs.sort(reverse=True)`\n\n" + PAYLOADS[0] + "\n\n" + PAYLOADS[1]


@pytest.fixture
def chat_project(manager, annotator):
    project = services.create_project(creator=manager, title="Chats", label_config=CONFIG)
    services.add_member(project=project, user=annotator, role=Role.ANNOTATOR)
    import_tasks(project, [{"dialogue": DIALOGUE, "response": RESPONSE}])
    return project


def assert_nothing_injected(page):
    canvas = page.locator("#canvas")
    assert page.evaluate("() => window.__xss") is None
    assert canvas.locator("script, [onerror], a[href^='javascript'], img[src*='tracker']").count() == 0
    text = canvas.inner_text()
    assert '<script>window.__xss = "script"</script>' in text  # shown as the characters the model wrote
    assert "<img src=\"x\" onerror=" in text and "[image: pixel]" in text


def assert_markdown_rendered(page):
    last = page.locator(".message").last
    assert last.locator("pre code.language-python").inner_text().startswith("numbers.sort(reverse=True)\nprint(numbers)")
    assert last.locator("li").all_inner_texts() == ["fast", "in place"]
    link = last.locator("a")
    assert (link.get_attribute("href"), link.get_attribute("target"), link.get_attribute("rel")) == (
        "https://docs.python.org/3/", "_blank", "noopener noreferrer")
    answer = page.locator(".text-object.markdown")
    assert answer.locator("h2").inner_text() == "Two ways" and answer.locator("ol li code").count() == 2


def test_a_dialogue_and_a_markdown_answer_render_safely_and_are_labeled_by_keyboard(
        live_server, signed_in, screenshot, chat_project, annotator):
    page = open_labeling(signed_in(annotator), live_server, chat_project)
    bubbles = page.locator(".message")
    assert bubbles.count() == len(DIALOGUE)
    assert page.locator(".message-speaker").first.inner_text().lower() == "system"
    assert page.locator(".dialogue-count").inner_text() == f"{len(DIALOGUE)} messages"
    assert_markdown_rendered(page)
    assert_nothing_injected(page)
    # The user's turns sit on the right of the pane, the assistant's on the left.
    pane = page.locator(".dialogue-pane").bounding_box()
    user, assistant = page.locator(".message-user").last.bounding_box(), bubbles.last.bounding_box()
    assert user["x"] + user["width"] > pane["x"] + pane["width"] - 30 and assistant["x"] < pane["x"] + 30
    # A long dialogue scrolls in its own pane, opened at its last turn; its keys are on screen and in the help.
    assert page.locator(".dialogue-head kbd").all_inner_texts() == ["Shift+↑", "Shift+↓"]
    at_end = page.evaluate("() => document.querySelector('.dialogue-pane').scrollTop")
    assert at_end > 0
    screenshot(page, "labeling-dialogue-1440")
    page.keyboard.press("Shift+ArrowUp")
    page.wait_for_function("(end) => document.querySelector('.dialogue-pane').scrollTop < end", arg=at_end)
    page.keyboard.press("?")
    assert "Scroll the dialogue up" in page.locator("#help").inner_text()
    page.keyboard.press("Escape")

    page.keyboard.press("1")
    page.keyboard.press("Enter")
    page.wait_for_selector("body[data-mode=done]")
    wait_until_saved(page)
    [stored] = annotations_of(annotator, chat_project)
    assert stored.result[0]["to_name"] == "chat" and stored.result[0]["value"] == {"choices": ["Yes"]}
    assert page.js_errors == []


def test_the_dialogue_reads_on_a_phone(live_server, phone, screenshot, chat_project, annotator):
    page = open_labeling(phone(annotator), live_server, chat_project)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    for selector in (".message-user", ".message-assistant", ".dialogue-pane", ".text-object.markdown"):
        box = page.locator(selector).last.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390, (selector, box)
    # A wide code line scrolls inside its block instead of widening the page.
    code = page.locator(".message pre").last
    assert code.evaluate("(pre) => pre.scrollWidth > pre.clientWidth && getComputedStyle(pre).overflowX === 'auto'")
    assert_nothing_injected(page)
    screenshot(page, "labeling-dialogue-390")
    page.locator(".text-object.markdown").scroll_into_view_if_needed()
    screenshot(page, "labeling-dialogue-390-answer")
    assert page.js_errors == []
