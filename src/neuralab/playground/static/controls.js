// The side and top controls: menus filled from the server's choices, every change sent as
// a `configure` message; `render(state)` shows the state the server confirmed. HIDABLE
// names every control a classroom link may hide (`<name>_hide=true`); a feature's name
// hides its tile (`x1^2_hide=true`, as TF Playground's `xSquared_hide`).

import { drawPoints } from "./pictures.js";

const $ = (id) => document.getElementById(id);
const MOMENTA = [0, 0.5, 0.9, 0.95, 0.99];
const DROPOUTS = [0, 0.1, 0.2, 0.3, 0.5];
const TITLES = { circle: "Circle", xor: "Exclusive or", gauss: "Gaussian", spiral: "Spiral", moons: "Moons",
  plane: "Plane", multi_gauss: "Multi gaussian", own: "Own data" };
const CLASS_NAMES = ["orange", "blue", "green", "purple", "red", "teal"];

// hide key → the elements it hides (each with its label)
export const HIDABLE = {
  play: ["play"], step: ["step"], reset: ["reset"], new_seed: ["new_seed"], export: ["export"], import: ["import"],
  race: ["view_toggle"], mode: ["mode"], learning_rate: ["learning_rate"], optimizer: ["optimizer"], schedule: ["schedule"],
  activation: ["activation"], regularization: ["regularization"], regularization_rate: ["regularization_rate"],
  problem: ["problem"], dataset: ["datasets"], n_classes: ["n_classes"], ratio: ["ratio"], noise: ["noise"],
  batch_size: ["batch_size"], n_samples: ["n_samples"], regenerate: ["regenerate"], own: ["own-panel"],
  init: ["init"], loss: ["loss"], momentum: ["momentum"], dropout: ["dropout"], schedule_steps: ["schedule_steps"],
  batch_norm: ["batch_norm"], show_test: ["show_test"], discretize: ["discretize"],
  hidden: ["add-layer", "remove-layer"],
};

function fill(select, values, label = (v) => String(v)) {
  select.replaceChildren(...values.map((value) => new Option(label(value), String(value))));
}

function ensureOption(select, value) {
  if (![...select.options].some((option) => option.value === String(value))) select.add(new Option(String(value), String(value)));
  select.value = String(value);
}

export class Controls {
  constructor({ choices, previews, onConfigure }) {
    this.choices = choices;
    this.previews = previews || {};
    this.onConfigure = onConfigure;
    this.editing = new Set();  // sliders being dragged (an input event, no change yet)
    fill($("learning_rate"), choices.learning_rates);
    fill($("regularization_rate"), choices.regularization_rates);
    fill($("optimizer"), choices.optimizers);
    fill($("schedule"), choices.schedules);
    fill($("activation"), choices.activations);
    fill($("init"), choices.inits);
    fill($("loss"), choices.losses);
    fill($("momentum"), MOMENTA);
    fill($("dropout"), DROPOUTS);
    fill($("schedule_steps"), [10, 20, 50, 100, 200, 500, 1000]);
    fill($("n_classes"), [2, 3, 4, 5, 6]);
    fill($("own-class"), [0, 1, 2, 3, 4, 5], (index) => `class ${index} (${CLASS_NAMES[index]})`);
    $("own-class").value = "1";
    this.wire();
  }

  send(changes) { this.onConfigure(changes); }

  wire() {
    const number = (id) => () => this.send({ [id]: Number($(id).value) });
    const text = (id) => () => this.send({ [id]: $(id).value });
    for (const id of ["learning_rate", "regularization_rate", "momentum", "dropout", "n_classes", "schedule_steps"]) {
      $(id).addEventListener("change", number(id));
    }
    for (const id of ["mode", "optimizer", "schedule", "init", "loss", "regularization", "problem"]) {
      $(id).addEventListener("change", text(id));
    }
    $("activation").addEventListener("change", () => {
      this.send({ activations: this.state.hidden.map(() => $("activation").value) });
    });
    for (const id of ["batch_norm", "show_test", "discretize"]) {
      $(id).addEventListener("change", () => this.send({ [id]: $(id).checked }));
    }
    const sliders = { ratio: ["ratio-value", 1], noise: ["noise-value", 0.01], batch_size: ["batch-value", 1],
      n_samples: ["samples-value", 1] };
    for (const [id, [label, scale]] of Object.entries(sliders)) {
      // the slider's value in the state's units, rounded as sent (35 × 0.01 reads 0.35, not 0.35000000000000003)
      const value = () => Number((Number($(id).value) * scale).toFixed(4));
      $(id).addEventListener("input", () => {
        this.editing.add(id);  // dragged, not yet let go: a state arriving now must not move it (render)
        $(label).textContent = String(value());
      });
      $(id).addEventListener("change", () => {
        this.editing.delete(id);
        this.send({ [id]: value() });
      });
      // let go where it started (no change event): show the confirmed state again once it loses the focus
      $(id).addEventListener("blur", () => { if (this.editing.delete(id) && this.state) this.render(this.state); });
    }
  }

  /** Set a slider and its read-out, unless the user is dragging it: the reply to another change
   *  (slow while a big network trains) would make it jump under the pointer; its own value is sent
   *  when it is let go. */
  showSlider(id, label, value, text) {
    if (this.editing.has(id)) return;
    $(id).value = value;
    $(label).textContent = text;
  }

  /** Show a state the server confirmed. */
  render(state) {
    this.state = state;
    ensureOption($("learning_rate"), state.learning_rate);
    ensureOption($("regularization_rate"), state.regularization_rate);
    ensureOption($("momentum"), state.momentum);
    ensureOption($("dropout"), state.dropout);
    ensureOption($("schedule_steps"), state.schedule_steps);
    for (const id of ["mode", "optimizer", "schedule", "init", "loss", "regularization", "problem", "n_classes"]) {
      $(id).value = String(state[id]);
    }
    const momentum = this.choices.momentum_optimizers.includes(state.optimizer);
    $("momentum").disabled = !momentum;
    $("momentum").title = momentum ? "" : `${state.optimizer} does not use momentum`;
    const same = state.activations.length && state.activations.every((a) => a === state.activations[0]);
    if (same) $("activation").value = state.activations[0];
    else $("activation").selectedIndex = -1;
    $("batch_norm").checked = state.batch_norm;
    $("show_test").checked = state.show_test;
    $("discretize").checked = state.discretize;
    this.showSlider("ratio", "ratio-value", state.ratio, state.ratio);
    this.showSlider("noise", "noise-value", Math.round(state.noise * 100), state.noise);
    this.showSlider("batch_size", "batch-value", state.batch_size, state.batch_size);
    this.showSlider("n_samples", "samples-value", state.n_samples, state.n_samples);
    $("classes-row").hidden = !this.choices.multiclass.includes(state.dataset);
    $("seed-line").textContent = `seed ${state.seed}`;
    const own = state.dataset === "own";
    $("own-class-row").hidden = !own || state.problem !== "classification";
    $("own-value-row").hidden = !own || state.problem !== "regression";
    $("own-split-row").hidden = !own;
    $("heatmap").classList.toggle("own-mode", own);
    $("layer-count").textContent = `${state.hidden.length} hidden layer${state.hidden.length === 1 ? "" : "s"}`;
    this.renderDatasets(state);
  }

  renderDatasets(state) {
    const names = this.choices[state.problem];
    $("datasets").replaceChildren(...names.map((name) => {
      const button = Object.assign(document.createElement("button"), { title: TITLES[name] || name });
      const preview = this.previews[name];
      if (preview) {
        const canvas = Object.assign(document.createElement("canvas"), { width: 48, height: 48, className: "preview" });
        drawPoints(canvas, preview, preview.square, { task: preview.task, radius: 1.5 });
        button.append(canvas, document.createElement("br"));
      }
      button.append(TITLES[name] || name);
      button.dataset.dataset = name;
      if (name === state.dataset) button.classList.add("selected");
      button.addEventListener("click", () => this.send({ dataset: name }));
      return button;
    }));
  }
}
