// Markdown of model text (responses, chat messages), rendered safely: marked turns it into HTML with any raw HTML
// in it escaped to plain text, then DOMPurify keeps only a short allow-list of tags and attributes. Links open in
// a new tab without a handle on this page; images load only from this site (a remote one could track who reads).
// Both libraries are vendored UMD builds that the objects using this module list in their `assets`.

const ALLOWED_TAGS = [
  "a", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "img", "li", "ol", "p",
  "pre", "strong", "table", "tbody", "td", "th", "thead", "tr", "ul",
];
const ALLOWED_ATTR = ["href", "title", "alt", "src", "class", "start", "align"];
const SAFE_URL = /^(?:https?:|mailto:|[^:/?#]*(?:[/?#]|$))/i; // http(s), mailto, or a relative URL (no scheme)

let renderer = null;

/** The text as a DocumentFragment of sanitised Markdown; as plain text if the libraries are missing. */
export function renderMarkdown(text) {
  const fragment = document.createDocumentFragment();
  const source = typeof text === "string" ? text : "";
  const tools = renderer || (renderer = makeRenderer());
  if (!tools) {
    fragment.append(document.createTextNode(source)); // still readable, and never HTML
    return fragment;
  }
  fragment.append(tools.purifier.sanitize(tools.marked.parse(source), tools.config));
  for (const image of fragment.querySelectorAll("img:not([src])")) {
    image.replaceWith(`[image: ${image.getAttribute("alt") || "from another site"}]`);
  }
  return fragment;
}

function makeRenderer() {
  if (!window.marked?.Marked || typeof window.DOMPurify !== "function") {
    console.error("Markdown is shown as plain text: marked or DOMPurify is not loaded (vendor them with `npm run vendor`)");
    return null;
  }
  // Own instances: options and hooks set here leave any other user of the libraries untouched.
  const marked = new window.marked.Marked({ gfm: true, breaks: true, async: false });
  marked.use({ renderer: { html: (token) => escapeHtml(token.text) } });
  const purifier = window.DOMPurify(window);
  purifier.addHook("afterSanitizeAttributes", tightenNode);
  const config = { ALLOWED_TAGS, ALLOWED_ATTR, ALLOWED_URI_REGEXP: SAFE_URL, RETURN_DOM_FRAGMENT: true };
  return { marked, purifier, config };
}

// Runs in DOMPurify's inert document: an image's src goes before the fragment joins the page, where it would load.
function tightenNode(node) {
  if (node.tagName === "A" && node.hasAttribute("href")) {
    node.setAttribute("target", "_blank");
    node.setAttribute("rel", "noopener noreferrer");
  }
  if (node.tagName === "IMG" && !sameSite(node.getAttribute("src"))) node.removeAttribute("src");
}

function sameSite(url) {
  try {
    return Boolean(url) && new URL(url, window.location.href).origin === window.location.origin;
  } catch {
    return false;
  }
}

function escapeHtml(text) {
  const replacements = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
  return String(text).replace(/[&<>"']/g, (char) => replacements[char]);
}
