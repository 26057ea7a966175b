// The page: connects to the server, keeps the URL in step with the state, and draws each
// frame the server streams. The browser only draws; all training happens on the server.
// Every (re)connection restores the experiment from the URL; a link's unreadable or
// refused keys are named; editing the hash applies it; a classroom link hides controls.

import { LossChart } from "./chart.js";
import { Controls, HIDABLE } from "./controls.js";
import { NetworkView } from "./network.js";
import { decode, decodeWeights, drawLegend, drawPoints, paint, slice } from "./pictures.js";
import { RaceView } from "./race.js";
import { connect } from "./socket.js";
import { parseHash, toHash } from "./state.js";

const $ = (id) => document.getElementById(id);
const HEATMAP_ALPHA = 160 / 255;  // TF Playground's: points of the same colour stay visible
const table = await fetch("/api/table").then((response) => response.json());
const page = { state: null, data: null, frame: null, weights: null, hover: null, playing: false, errors: [],
  hides: parseHash(table.table, location.hash).hides, connected: false };
let errorTimer = null;
let writtenHash = null;
// A new session first sends its own (default) state, then the answer to the link's settings: while
// that answer is on its way the address bar keeps the link, or a connection lost in between would
// restore the defaults instead of the experiment
let linkPending = false;

const socket = connect({ onMessage: receive, onOpen: restoreFromUrl, onStatus: showConnection });
const send = (message) => {
  if (socket.send(message)) return true;
  showError({ message: "not connected: that change was not sent; the page reconnects and restores the link" });
  return false;
};
const configure = (changes) => send({ type: "configure", changes });
const controls = new Controls({ choices: table.choices, previews: table.previews, onConfigure: configure });
const chart = new LossChart($("chart"));
const network = new NetworkView({
  root: $("network"), card: $("hovercard"), onConfigure: configure,
  onSetWeight: (edit) => send({ type: "set_weight", ...edit }),
  onHoverPicture: (hover) => { page.hover = hover; drawHeatmap(); },
});
const race = new RaceView({ info: table.race, send });
window.playground = { page, send };  // for tests and the console
buildClassroom();
applyHides();

/** Send the link's settings (all of them: the server keeps the valid ones and names the rest). */
function restoreFromUrl({ reconnected }) {
  const { changes, refused, hides } = parseHash(table.table, location.hash);
  page.hides = hides;
  applyHides();
  if (refused.length) {
    showError({ message: `link: kept the other settings; could not read ${refused.map(([key, why]) => `${key} (${why})`).join("; ")}` });
  }
  chart.update(0, []);
  linkPending = Object.keys(changes).length > 0 && socket.send({ type: "configure", changes, link: true });
  if (reconnected) showError({ message: "reconnected: the experiment was restored from the link (training starts again at epoch 0)" });
}

function showConnection({ connected, text }) {
  page.connected = connected;
  document.body.classList.toggle("disconnected", !connected);
  $("connection").hidden = connected;
  $("connection").textContent = text;
  $("status").textContent = text;
  for (const element of document.querySelectorAll("main button, main select, main input, #topbar button, #topbar select, #topbar input")) {
    if (!connected) { element.dataset.wasDisabled = element.disabled ? "1" : ""; element.disabled = true; }
    else if ("wasDisabled" in element.dataset) { element.disabled = element.dataset.wasDisabled === "1"; delete element.dataset.wasDisabled; }
  }
  if (connected && page.state) controls.render(page.state);
}

window.addEventListener("hashchange", () => {
  if (location.hash === writtenHash) return;
  const { changes, refused, hides } = parseHash(table.table, location.hash);
  page.hides = hides;
  applyHides();
  if (refused.length) showError({ message: `link: could not read ${refused.map(([key, why]) => `${key} (${why})`).join("; ")}` });
  if (Object.keys(changes).length) socket.send({ type: "configure", changes, link: true });
});

function writeHash() {
  if (!page.state) return;
  writtenHash = toHash(table.table, page.state, page.hides);
  history.replaceState(null, "", writtenHash);
  const link = new URL(location.href);
  $("classroom-link").value = link.href;
}

function receive(message) {
  const handlers = { state: onState, data: onData, frame: onFrame, playing: onPlaying, error: showError,
    spec: download, race: (m) => race.show(m) };
  (handlers[message.type] || (() => {}))(message);
}

function onState({ state }) {
  page.state = state;
  document.body.classList.remove("loading");  // every handler is attached by now: the controls take clicks
  controls.render(state);
  if (linkPending) linkPending = false;  // the session's first state: the link's answer comes next
  else writeHash();
  if (page.data) network.setup(state, page.data, table.choices);
  if (page.frame) drawFrame();
}

function onData(data) {
  page.data = data;
  if (page.state) network.setup(page.state, data, table.choices);
  drawLegend($("legend"), { nClasses: data.classes, task: data.task, alpha: HEATMAP_ALPHA });
}

function onFrame(frame) {
  page.frame = frame;
  page.weights = frame.weights.map(decodeWeights);
  chart.update(frame.curve_from, frame.curve);
  drawFrame();
  requestAnimationFrame(() => socket.send({ type: "drawn" }));  // the server paces frames to the page's drawing
}

function onPlaying({ playing }) {
  page.playing = playing;
  $("play").classList.toggle("playing", playing);
  $("play").innerHTML = playing ? "&#x2759;&#x2759;" : "&#x25b6;";
}

function formatEpoch(epoch) {
  const digits = String(epoch).padStart(6, "0");
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

function formatLoss(value) { return value === null ? "NaN" : value.toFixed(3); }
function formatAccuracy(value) { return value === null || value === undefined ? "" : `accuracy ${(value * 100).toFixed(1)}%`; }

function drawFrame() {
  const { frame } = page;
  if (!frame) return;
  $("epoch").textContent = formatEpoch(frame.epoch);
  $("train-loss").textContent = formatLoss(frame.train_loss);
  $("test-loss").textContent = formatLoss(frame.test_loss);
  $("train-accuracy").textContent = formatAccuracy(frame.train_accuracy);
  $("test-accuracy").textContent = formatAccuracy(frame.test_accuracy);
  $("lr-line").textContent = `learning rate now ${frame.learning_rate.toPrecision(3)}`
    + (frame.modified ? " · changed during training" : "");
  network.update(frame, page.weights);
  network.paintOutput(frame, decode(frame.output.values), outputOptions(frame.output));
  const bad = (frame.health || []).filter((row) => row.verdict !== "ok");
  $("health").textContent = bad.length ? `gradient health: ${bad.map((r) => `${r.layer} ${r.verdict}`).join(", ")}`
    : (frame.health && frame.health.length ? "gradient health: ok" : "");
  if (frame.stopped && frame.stopped !== page.shownStop) {
    page.shownStop = frame.stopped;
    showError({ message: `training stopped: ${frame.stopped}. Lower the learning rate (the network restarts) or press Reset.`, sticky: true });
  }
  if (!frame.stopped) page.shownStop = null;
  drawHeatmap();
}

function outputOptions(output) {
  const nClasses = page.data ? page.data.classes : 2;
  return { classes: output.classes ? decode(output.classes) : null, nClasses, discretize: page.state && page.state.discretize };
}

function drawHeatmap() {
  const { frame, data, state, hover } = page;
  if (!frame || !data || !state) return;
  const canvas = $("heatmap");
  let caption = "output of the network";
  const options = { discretize: state.discretize, alpha: HEATMAP_ALPHA };
  if (hover && hover.kind === "neuron" && frame.neurons[hover.layer]) {
    paint(canvas, slice(decode(frame.neurons[hover.layer]), hover.unit, frame.size), options);
    caption = `neuron ${hover.unit + 1} of hidden layer ${hover.layer + 1}`;
  } else if (hover && hover.kind === "feature" && data.feature_pictures[hover.name]) {
    paint(canvas, decode(data.feature_pictures[hover.name]), options);
    caption = `feature ${hover.name}`;
  } else if (hover && hover.kind === "output" && frame.output_units) {
    paint(canvas, slice(decode(frame.output_units), hover.unit, frame.size), options);
    caption = `output for class ${hover.unit} (2p − 1)`;
  } else {
    paint(canvas, decode(frame.output.values), { ...outputOptions(frame.output), alpha: HEATMAP_ALPHA });
  }
  drawPoints(canvas, data.train, data.square, { task: data.task });
  if (state.show_test) drawPoints(canvas, data.test, data.square, { task: data.task, test: true });
  $("heatmap-caption").textContent = `${caption} over [${data.square.map((v) => v.toFixed(1)).join(", ")}]²`;
}

function showError({ message, sticky = false }) {
  page.errors.push(message);
  $("error").textContent = message;
  $("error").hidden = false;
  clearTimeout(errorTimer);
  if (!sticky) errorTimer = setTimeout(() => { $("error").hidden = true; }, 8000);
}

function applyHides() {
  for (const [key, ids] of Object.entries(HIDABLE)) {
    const hide = page.hides.has(key);
    document.body.classList.toggle(`hide-${key}`, hide);
    for (const id of ids) {
      const element = $(id);
      if (element) (element.closest("label") || element).hidden = hide;
    }
  }
  for (const box of document.querySelectorAll("#classroom-controls input[data-hide]")) box.checked = page.hides.has(box.dataset.hide);
  const features = new Set(table.choices.features.filter((name) => page.hides.has(name)));
  const changed = [...features].join() !== [...network.hiddenFeatures].join();
  network.hiddenFeatures = features;
  if (changed && page.state && page.data) {
    network.setup(page.state, page.data, table.choices);
    drawFrame();
  }
}

function buildClassroom() {
  const keys = [...Object.keys(HIDABLE).map((key) => [key, key.replaceAll("_", " ")]),
    ...table.choices.features.map((name) => [name, `feature ${name}`])];  // a feature's tile, as TFP's xSquared_hide
  $("classroom-controls").replaceChildren(...keys.map(([key, text]) => {
    const label = document.createElement("label");
    const box = Object.assign(document.createElement("input"), { type: "checkbox" });
    box.dataset.hide = key;
    box.addEventListener("change", () => {
      if (box.checked) page.hides.add(key); else page.hides.delete(key);
      applyHides();
      writeHash();
    });
    label.append(box, text);
    return label;
  }));
}

function saveFile(text, filename, type) {
  const link = document.createElement("a");
  link.href = URL.createObjectURL(new Blob([text], { type }));
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
}

function download({ text, filename, data_text: dataText, data_filename: dataFilename }) {
  page.exported = text;
  saveFile(text, filename, "application/x-yaml");
  if (dataText) saveFile(dataText, dataFilename, "text/csv");  // own data: the file the spec reads
}

$("play").addEventListener("click", () => send({ type: page.playing ? "pause" : "play" }));
for (const id of ["step", "new_seed", "regenerate", "export"]) {
  $(id).addEventListener("click", () => send({ type: id }));
}
$("reset").addEventListener("click", () => { if (send({ type: "reset" })) chart.update(0, []); });
$("add-layer").addEventListener("click", () => {
  if (!page.state || page.state.hidden.length >= table.choices.limits.layers) return;
  configure({ hidden: [...page.state.hidden, 2] });
});
$("remove-layer").addEventListener("click", () => {
  if (page.state && page.state.hidden.length) configure({ hidden: page.state.hidden.slice(0, -1) });
});
$("import").addEventListener("change", async (event) => {
  const file = event.target.files[0];
  event.target.value = "";
  if (!file) return;
  if (file.size > 64 * 1024) { showError({ message: `import: ${file.name} is larger than 64 KiB` }); return; }
  send({ type: "import", text: await file.text() });
});
$("heatmap").addEventListener("click", (event) => {
  const { state, data } = page;
  if (!state || !data || state.dataset !== "own") return;
  const box = event.target.getBoundingClientRect();
  const [low, high] = data.square;
  const x = low + ((event.clientX - box.left) / box.width) * (high - low);
  const y = high - ((event.clientY - box.top) / box.height) * (high - low);
  const label = state.problem === "regression" ? Number($("own-value").value) : Number($("own-class").value);
  send({ type: "add_point", x, y, label, split: $("own-split").value });
});
$("upload").addEventListener("change", async (event) => {
  const file = event.target.files[0];
  event.target.value = "";
  if (!file) return;
  if (file.size > 512 * 1024) { showError({ message: `upload: ${file.name} is larger than 512 KiB` }); return; }
  send({ type: "upload_csv", text: await file.text() });
});
$("view_toggle").addEventListener("click", () => {
  const racing = $("race").hidden;
  $("race").hidden = !racing;
  $("playground-view").hidden = racing;
  $("view_toggle").textContent = racing ? "playground" : "optimiser race";
  if (racing) race.open();
});
