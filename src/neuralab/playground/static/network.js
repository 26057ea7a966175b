// The network drawing: feature tiles (each with its own picture, on or off), a thumbnail per
// neuron and per output (one per class for a multi-class network), links whose width and
// colour show each weight, bias squares, hover cards that edit a weight or bias, and
// gradient-health marks. Weights arrive decoded ({weights, biases} per layer).

import { classColor, decode, paint, slice, valueColor } from "./pictures.js";

const HEIGHT = 470;
const TOP = 64;
const LEFT = 70;

function nodeSize(count) {
  return Math.max(5, Math.min(36, Math.floor((HEIGHT - TOP - 10) / (count * 1.25))));
}

function rgb(color, alpha = 1) {
  return `rgba(${color.map(Math.round).join(",")},${alpha})`;
}

export class NetworkView {
  constructor({ root, card, onConfigure, onSetWeight, onHoverPicture }) {
    Object.assign(this, { root, card, onConfigure, onSetWeight, onHoverPicture });
    this.links = [];
    this.hiddenFeatures = new Set();  // feature tiles a classroom link hides
    this.root.style.height = `${HEIGHT}px`;
    this.canvas = document.createElement("canvas");
    this.canvas.className = "links";
    this.canvas.addEventListener("mousemove", (event) => this.hoverLink(event));
    this.canvas.addEventListener("click", (event) => this.hoverLink(event, true));
    this.canvas.addEventListener("mouseleave", () => { if (!this.pinned) this.hideCard(); });
  }

  /** Rebuild the drawing for a state (features, layers, activations) and its data. */
  setup(state, data, choices) {
    this.state = state;
    this.data = data;
    this.root.replaceChildren(this.canvas);
    const width = this.root.clientWidth || 600;
    this.canvas.width = width;
    this.canvas.height = HEIGHT;
    const columns = state.hidden.length + 2;
    const step = (width - LEFT - 50) / (columns - 1);
    this.columns = [];
    this.columns.push(this.featureColumn(choices.features, state.features, LEFT));
    state.hidden.forEach((count, layer) => {
      this.columns.push(this.hiddenColumn(layer, count, LEFT + step * (layer + 1), choices));
    });
    this.columns.push(this.outputColumn(LEFT + step * (columns - 1)));
    this.hideCard();
  }

  node(x, y, size, classes) {
    const element = document.createElement("div");
    element.className = `node ${classes}`;
    Object.assign(element.style, { left: `${x}px`, top: `${y}px`, width: `${size}px`, height: `${size}px` });
    const canvas = document.createElement("canvas");
    canvas.width = canvas.height = Math.max(size, 24);
    element.append(canvas);
    this.root.append(element);
    return { element, canvas, x, y, size };
  }

  featureColumn(names, active, x) {
    const size = nodeSize(names.length);
    const nodes = [];
    names.forEach((name, index) => {
      const on = active.includes(name);
      const node = this.node(x, TOP + index * size * 1.25, size, `feature ${on ? "on" : "off"}`);
      node.element.dataset.feature = name;
      if (this.hiddenFeatures.has(name)) node.element.style.visibility = "hidden";  // a classroom link hid it
      node.element.title = on ? `${name}: click to turn off` : `${name}: click to turn on`;
      const label = document.createElement("span");
      label.className = "name";
      label.textContent = name;
      node.element.append(label);
      node.element.addEventListener("click", () => {
        const next = on ? active.filter((f) => f !== name) : [...active, name];
        if (next.length) this.onConfigure({ features: next });
      });
      node.feature = name;
      node.element.addEventListener("mouseenter", () => this.onHoverPicture({ kind: "feature", name }));
      node.element.addEventListener("mouseleave", () => this.onHoverPicture(null));
      const picture = this.data.feature_pictures[name];
      if (picture) paint(node.canvas, decode(picture));
      if (on) nodes.push(node);
    });
    return { x, size, nodes };
  }

  hiddenColumn(layer, count, x, choices) {
    const size = nodeSize(count);
    const head = document.createElement("div");
    head.className = "layer-head";
    head.dataset.layer = String(layer);
    Object.assign(head.style, { left: `${x - 40 + size / 2}px`, top: "0px", width: "80px" });
    const plus = Object.assign(document.createElement("button"), { textContent: "+", title: "Add a neuron" });
    const minus = Object.assign(document.createElement("button"), { textContent: "−", title: "Remove a neuron" });
    const change = (delta) => {
      const hidden = [...this.state.hidden];
      hidden[layer] = Math.max(1, Math.min(choices.limits.neurons, hidden[layer] + delta));
      this.onConfigure({ hidden });
    };
    plus.addEventListener("click", () => change(1));
    minus.addEventListener("click", () => change(-1));
    const select = document.createElement("select");
    select.title = "Activation of this layer";
    for (const name of choices.activations) select.add(new Option(name, name));
    select.value = this.state.activations[layer];
    select.addEventListener("change", () => {
      const activations = [...this.state.activations];
      activations[layer] = select.value;
      this.onConfigure({ activations });
    });
    const text = Object.assign(document.createElement("div"), { textContent: `${count} neuron${count > 1 ? "s" : ""}` });
    const mark = Object.assign(document.createElement("span"), { className: "mark" });
    head.append(plus, minus, text, select, mark);
    this.root.append(head);
    const nodes = [];
    for (let unit = 0; unit < count; unit++) {
      const node = this.node(x, TOP + unit * size * 1.25, size, "neuron");
      node.element.dataset.layer = String(layer);
      node.element.addEventListener("mouseenter", () => this.onHoverPicture({ kind: "neuron", layer, unit }));
      node.element.addEventListener("mouseleave", () => this.onHoverPicture(null));
      node.bias = this.biasSquare(node, layer, unit);
      nodes.push(node);
    }
    return { x, size, nodes, head, mark };
  }

  outputColumn(x) {
    const count = this.data.task === "multiclass" ? this.data.classes : 1;
    const size = count > 1 ? Math.min(36, nodeSize(count)) : 36;
    const nodes = [];
    for (let unit = 0; unit < count; unit++) {
      const node = this.node(x, TOP + (count > 1 ? unit * size * 1.25 : 60), size, "output");
      node.element.dataset.output = String(unit);
      if (count > 1) {
        node.element.style.borderColor = `rgb(${classColor(unit).join(",")})`;
        node.element.title = `output for class ${unit}: its probability, 2p − 1`;
        node.element.addEventListener("mouseenter", () => this.onHoverPicture({ kind: "output", unit }));
        node.element.addEventListener("mouseleave", () => this.onHoverPicture(null));
      }
      node.bias = this.biasSquare(node, this.state.hidden.length, unit);
      nodes.push(node);
    }
    return { x, size, nodes };
  }

  biasSquare(node, layer, unit) {
    const square = document.createElement("div");
    square.className = "bias";
    Object.assign(square.style, { left: `${node.x - 8}px`, top: `${node.y + node.size - 6}px` });
    square.addEventListener("mouseenter", (event) => this.showCard(event, { layer, row: unit, column: -1 }));
    square.addEventListener("click", (event) => this.showCard(event, { layer, row: unit, column: -1 }, true));
    this.root.append(square);
    return square;
  }

  /** Paint thumbnails, links, biases and health marks from a frame (its weights decoded). */
  update(frame, weights) {
    this.frame = frame;
    this.weights = weights;
    if (!this.columns) return;
    frame.neurons.forEach((layer, index) => {
      const column = this.columns[index + 1];
      if (!column || !column.nodes) return;
      const bytes = decode(layer);
      column.nodes.forEach((node, unit) => paint(node.canvas, slice(bytes, unit, frame.size)));
    });
    this.paintBiases(weights);
    this.drawLinks(weights);
    this.markHealth(frame.health || []);
  }

  paintOutput(frame, bytes, options) {
    const column = this.columns && this.columns[this.columns.length - 1];
    if (!column) return;
    if (column.nodes.length === 1) { paint(column.nodes[0].canvas, bytes, options); return; }
    if (!frame.output_units) return;
    const units = decode(frame.output_units);
    column.nodes.forEach((node, unit) => paint(node.canvas, slice(units, unit, frame.size)));
  }

  paintBiases(weights) {
    weights.forEach((layer, index) => {
      const column = this.columns[index + 1];
      if (!column) return;
      column.nodes.forEach((node, unit) => {
        const bias = layer.biases[unit];
        if (node.bias && bias !== undefined) node.bias.style.background = rgb(valueColor(bias));
      });
    });
  }

  drawLinks(weights) {
    const context = this.canvas.getContext("2d");
    context.clearRect(0, 0, this.canvas.width, this.canvas.height);
    this.links = [];
    const total = weights.reduce((sum, layer) => sum + layer.weights.length * (layer.weights[0] || []).length, 0);
    const thin = total > 400 ? 0.4 : 1;
    weights.forEach((layer, index) => {
      const from = this.columns[index], to = this.columns[index + 1];
      if (!from || !to) return;
      layer.weights.forEach((row, target) => row.forEach((weight, source) => {
        const a = from.nodes[source], b = to.nodes[target];
        if (!a || !b) return;
        const link = { layer: index, row: target, column: source, weight,
          x0: a.x + a.size, y0: a.y + a.size / 2, x1: b.x, y1: b.y + b.size / 2 };
        this.links.push(link);
        const middle = (link.x0 + link.x1) / 2;
        context.beginPath();
        context.moveTo(link.x0, link.y0);
        context.bezierCurveTo(middle, link.y0, middle, link.y1, link.x1, link.y1);
        context.lineWidth = (Number.isFinite(weight) ? Math.min(10, 1 + Math.abs(weight) * 1.8) : 1) * thin;
        context.strokeStyle = rgb(valueColor(weight), 0.8);
        context.stroke();
      }));
    });
  }

  markHealth(rows) {
    rows.forEach((row, index) => {
      const column = this.columns[index + 1];
      if (!column || !column.head) return;
      const bad = row.verdict !== "ok";
      column.head.className = `layer-head ${bad ? row.verdict.split(" ")[0] : ""}`;
      column.mark.textContent = bad ? `⚠ ${row.verdict}` : "";
      column.head.title = `gradient norm ${row.gradient_norm === null ? "not finite" : row.gradient_norm.toExponential(2)}, `
        + `dead units ${(row.dead * 100).toFixed(0)}%` + (row.causes && row.causes.length ? `\n${row.causes.join("\n")}` : "");
    });
  }

  nearestLink(event) {
    if (this.links.length > 3000) return null;
    const box = this.canvas.getBoundingClientRect();
    const x = event.clientX - box.left, y = event.clientY - box.top;
    let best = null, bestDistance = 5;
    for (const link of this.links) {
      const middle = (link.x0 + link.x1) / 2;
      for (let t = 0; t <= 1; t += 0.05) {
        const u = 1 - t;
        const px = u * u * u * link.x0 + 3 * u * u * t * middle + 3 * u * t * t * middle + t * t * t * link.x1;
        const py = u * u * u * link.y0 + 3 * u * u * t * link.y0 + 3 * u * t * t * link.y1 + t * t * t * link.y1;
        const distance = Math.hypot(px - x, py - y);
        if (distance < bestDistance) { best = link; bestDistance = distance; }
      }
    }
    return best;
  }

  hoverLink(event, pin = false) {
    if (this.pinned && !pin) return;
    const link = this.nearestLink(event);
    if (link) this.showCard(event, link, pin); else if (!this.pinned) this.hideCard();
  }

  currentValue({ layer, row, column }) {
    const weights = this.weights && this.weights[layer];
    if (!weights) return null;
    return column < 0 ? weights.biases[row] : weights.weights[row][column];
  }

  showCard(event, target, pin = false) {
    const value = this.currentValue(target);
    if (value === null || value === undefined) return;
    const box = this.root.getBoundingClientRect();
    const what = target.column < 0 ? "Bias" : "Weight";
    this.card.replaceChildren();
    this.card.append(`${what} ${Number.isFinite(value) ? value.toPrecision(3) : "not a number (diverged)"}`);
    if (pin) {
      const input = Object.assign(document.createElement("input"), { type: "number", step: "0.1",
        value: Number.isFinite(value) ? String(Math.round(value * 1e5) / 1e5) : "0" });
      input.addEventListener("keydown", (key) => {
        if (key.key === "Enter") {
          this.onSetWeight({ layer: target.layer, row: target.row, column: target.column, value: Number(input.value) });
          this.pinned = false;
          this.hideCard();
        } else if (key.key === "Escape") { this.pinned = false; this.hideCard(); }
      });
      this.card.append(" ", input);
      setTimeout(() => input.focus(), 0);
    }
    this.pinned = pin;
    Object.assign(this.card.style, { left: `${event.clientX - box.left + 12}px`, top: `${event.clientY - box.top + 40}px` });
    this.card.hidden = false;
  }

  hideCard() {
    this.pinned = false;
    this.card.hidden = true;
  }
}
