// Who speaks in a chat transcript, as its bubble is styled: the user's turns on the right, the assistant's on the
// left, system and tool turns across. The labeling page's <Paragraphs> and the review page share it.

// Speaker names as chat data sets spell them -> how the bubble is styled; any other name is "other".
const SIDES = {
  user: "user", human: "user", assistant: "assistant", model: "assistant", bot: "assistant", gpt: "assistant",
  system: "system", developer: "system", tool: "tool", function: "tool", ipython: "tool",
};

export function speakerSide(speaker) {
  return SIDES[String(speaker ?? "").toLowerCase()] || "other";
}
