// The review page's model text, shown as the labeling page shows it: a dialogue's messages as sanitised Markdown
// in bubbles styled by speaker. Without this module (or without the vendored libraries) the text stays plain.
import { renderMarkdown } from "./markdown.js";
import { speakerSide } from "./speakers.js";

for (const message of document.querySelectorAll(".review-dialogue .message[data-speaker]")) {
  message.classList.add(`message-${speakerSide(message.dataset.speaker)}`);
  const body = message.querySelector("[data-markdown]");
  if (body) body.replaceChildren(renderMarkdown(body.textContent));
}
