// The optimiser race: torch.optim's optimisers on a 2-D surface (computed by the server),
// drawn as paths over the surface's contours, animated step by step.

import { decode } from "./pictures.js";

const $ = (id) => document.getElementById(id);
const COLORS = { sgd: "#e41a1c", momentum: "#377eb8", nesterov: "#4daf4a", adagrad: "#984ea3",
  rmsprop: "#ff7f00", adadelta: "#a65628", adam: "#f781bf" };

export class RaceView {
  constructor({ info, send }) {
    Object.assign(this, { info, send });
    this.canvas = $("race-canvas");
    const select = $("race-surface");
    for (const name of Object.keys(info.surfaces)) select.add(new Option(name, name));
    select.addEventListener("change", () => { this.start = null; this.renderRates(); this.run(); });
    $("race-run").addEventListener("click", () => this.run());
    this.canvas.addEventListener("click", (event) => this.clickStart(event));
    this.renderRates();
  }

  surface() { return this.info.surfaces[$("race-surface").value]; }

  renderRates() {
    const surface = this.surface();
    $("race-summary").textContent = surface.summary;
    $("race-rates").replaceChildren(...this.info.optimizers.map((name) => {
      const label = document.createElement("label");
      const shown = Object.assign(document.createElement("input"), { type: "checkbox", checked: true });
      shown.dataset.optimizer = name;
      shown.addEventListener("change", () => this.draw());
      const swatch = Object.assign(document.createElement("span"), { className: "swatch" });
      swatch.style.background = COLORS[name];
      const rate = Object.assign(document.createElement("input"), { type: "number", step: "any", min: "0",
        value: String(surface.learning_rates[name]), title: `learning rate of ${name}` });
      rate.dataset.rate = name;
      const name_ = document.createElement("span");
      name_.append(swatch, " ", name);
      label.append(shown, name_, rate);
      return label;
    }));
  }

  open() { if (!this.result) this.run(); }

  run() {
    const learning_rates = {};
    for (const input of document.querySelectorAll("#race-rates input[data-rate]")) {
      learning_rates[input.dataset.rate] = Number(input.value);
    }
    this.send({ type: "race", surface: $("race-surface").value, start: this.start || null,
      learning_rates, steps: Number($("race-steps").value) || 150 });
  }

  clickStart(event) {
    const box = this.canvas.getBoundingClientRect();
    const [xMin, xMax, yMin, yMax] = this.surface().box;
    const fx = (event.clientX - box.left) / box.width, fy = (event.clientY - box.top) / box.height;
    this.start = [xMin + fx * (xMax - xMin), yMax - fy * (yMax - yMin)];
    this.run();
  }

  show(result) {
    this.result = result;
    this.shownSteps = 0;
    cancelAnimationFrame(this.animation);
    const total = Math.max(...Object.values(result.paths).map((path) => path.length));
    const tick = () => {
      this.shownSteps = Math.min(total, this.shownSteps + Math.max(1, Math.ceil(total / 90)));
      this.draw();
      if (this.shownSteps < total) this.animation = requestAnimationFrame(tick);
    };
    tick();
    $("race-results").replaceChildren(...Object.entries(result.final).map(([name, value]) => {
      const line = document.createElement("div");
      line.style.color = COLORS[name];
      line.textContent = `${name}: ${value === null ? "diverged" : value.toPrecision(4)}`;
      return line;
    }));
  }

  draw() {
    const { result, canvas } = this;
    if (!result) return;
    const context = canvas.getContext("2d");
    const bytes = decode(result.picture);
    const scratch = document.createElement("canvas");
    scratch.width = scratch.height = result.size;
    const image = scratch.getContext("2d").createImageData(result.size, result.size);
    for (let i = 0; i < bytes.length; i++) {
      const t = bytes[i] / 255;
      image.data.set([250 - 200 * t, 250 - 120 * t, 255 - 60 * t, 255], i * 4);
    }
    scratch.getContext("2d").putImageData(image, 0, 0);
    context.imageSmoothingEnabled = true;
    context.drawImage(scratch, 0, 0, canvas.width, canvas.height);
    const [xMin, xMax, yMin, yMax] = result.box;
    const px = (x) => ((x - xMin) / (xMax - xMin)) * canvas.width;
    const py = (y) => ((yMax - y) / (yMax - yMin)) * canvas.height;
    for (const [x, y] of result.minima) {
      context.fillStyle = "#000";
      context.fillText("★", px(x) - 4, py(y) + 4);
    }
    const shown = new Set([...document.querySelectorAll("#race-rates input[data-optimizer]")]
      .filter((box) => box.checked).map((box) => box.dataset.optimizer));
    for (const [name, path] of Object.entries(result.paths)) {
      if (!shown.has(name)) continue;
      context.beginPath();
      path.slice(0, this.shownSteps).forEach(([x, y], i) => (i ? context.lineTo(px(x), py(y)) : context.moveTo(px(x), py(y))));
      context.strokeStyle = COLORS[name];
      context.lineWidth = 2;
      context.stroke();
      const last = path[Math.min(this.shownSteps, path.length) - 1];
      if (last) { context.fillStyle = COLORS[name]; context.beginPath(); context.arc(px(last[0]), py(last[1]), 4, 0, 7); context.fill(); }
    }
  }
}
