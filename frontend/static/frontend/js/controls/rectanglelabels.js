// <RectangleLabels>: boxes on an <Image>, drawn with the active label and relabelled by key or by the palette; the
// image view draws them.
import { registerControl } from "../registry.js";
import { LabelsControl } from "./common.js";

export class RectLabelsControl extends LabelsControl {
  constructor(control, context) {
    super(control, context, "drag on the image to draw");
    this.active = control.values[0].value;
  }

  get kindName() {
    return "box label";
  }

  howToAnswer() {
    return "draw at least one box";
  }

  /** A label key: relabel the selected box and draw the next ones with this label. */
  press(label) {
    this.active = label;
    this.relabelSelected(label);
    this.render();
  }

  /** A box's size in image pixels when the image's size is known, else in percent. */
  regionDetail(item) {
    const { width, height } = item.value;
    if (item.original_width) return `${Math.round((width * item.original_width) / 100)}×${Math.round((height * item.original_height) / 100)} px`;
    return `${width.toFixed(1)}×${height.toFixed(1)} %`;
  }
}

registerControl("rectanglelabels", RectLabelsControl);
