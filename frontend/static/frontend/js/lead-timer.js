// Time actually spent on a task: counted while the tab is visible and the annotator did something in the last
// IDLE_MS (a key, a click, a pointer move, a scroll). Lunch with the tab open is not lead time.

const IDLE_MS = 60_000;
const ACTIVITY = ["keydown", "pointerdown", "pointermove", "wheel", "selectionchange"];

export class LeadTimer {
  constructor(idleMs = IDLE_MS) {
    this.idleMs = idleMs;
    this.restart();
    const active = () => this.#activity();
    for (const type of ACTIVITY) document.addEventListener(type, active, { passive: true, capture: true });
    document.addEventListener("visibilitychange", () => (document.hidden ? this.#pause() : this.#resume()));
  }

  restart() {
    const now = performance.now();
    this.total = 0;
    this.running = !document.hidden;
    this.segmentStart = now;
    this.lastActive = now;
  }

  seconds() {
    return Math.round((this.total + (this.running ? this.#segmentLength(performance.now()) : 0))) / 1000;
  }

  #segmentLength(now) {
    return Math.max(0, Math.min(now, this.lastActive + this.idleMs) - this.segmentStart);
  }

  #activity() {
    const now = performance.now();
    if (!this.running) return;
    if (now - this.lastActive > this.idleMs) {
      this.total += this.#segmentLength(now); // close the segment at the moment they went idle
      this.segmentStart = now;
    }
    this.lastActive = now;
  }

  #pause() {
    if (!this.running) return;
    this.total += this.#segmentLength(performance.now());
    this.running = false;
  }

  #resume() {
    if (this.running) return;
    this.running = true;
    this.segmentStart = this.lastActive = performance.now();
  }
}
