// The page: connects to the server, keeps the URL in step with the state, and draws each
// frame the server streams. The browser only draws; all training happens on the server.

import { LossChart } from "./chart.js";
import { Controls } from "./controls.js";
import { NetworkView } from "./network.js";
import { decode, drawPoints, paint } from "./pictures.js";
import { RaceView } from "./race.js";
import { connect } from "./socket.js";
import { parseHash, toHash } from "./state.js";

const $ = (id) => document.getElementById(id);
const table = await fetch("/api/table").then((response) => response.json());
const page = { state: null, data: null, frame: null, hover: null, playing: false, errors: [] };
let errorTimer = null;

const socket = connect({ onMessage: receive, onStatus: (text) => { $("status").textContent = text; } });
const configure = (changes) => socket.send({ type: "configure", changes });
const controls = new Controls({ choices: table.choices, previews: table.previews, onConfigure: configure });
const chart = new LossChart($("chart"));
const network = new NetworkView({
  root: $("network"), card: $("hovercard"), onConfigure: configure,
  onSetWeight: (edit) => socket.send({ type: "set_weight", ...edit }),
  onHoverPicture: (hover) => { page.hover = hover; drawHeatmap(); },
});
const race = new RaceView({ info: table.race, send: (message) => socket.send(message) });
window.playground = { page, send: (message) => socket.send(message) };  // for tests and the console

const fromUrl = parseHash(table.table, location.hash);
if (Object.keys(fromUrl).length) configure(fromUrl);

function receive(message) {
  const handlers = { state: onState, data: onData, frame: onFrame, playing: onPlaying, error: showError,
    spec: download, race: (m) => race.show(m) };
  (handlers[message.type] || (() => {}))(message);
}

function onState({ state }) {
  page.state = state;
  controls.render(state);
  history.replaceState(null, "", toHash(table.table, state));
  if (page.data) network.setup(state, page.data, table.choices);
  if (page.frame) drawFrame();
}

function onData(data) {
  page.data = data;
  if (page.state) network.setup(page.state, data, table.choices);
}

function onFrame(frame) {
  page.frame = frame;
  chart.update(frame.curve_from, frame.curve);
  drawFrame();
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
  network.update(frame);
  network.paintOutput(decode(frame.output.values), outputOptions(frame.output));
  const bad = (frame.health || []).filter((row) => row.verdict !== "ok");
  $("health").textContent = bad.length ? `gradient health: ${bad.map((r) => `${r.layer} ${r.verdict}`).join(", ")}`
    : (frame.health && frame.health.length ? "gradient health: ok" : "");
  if (frame.stopped) showError({ message: `training stopped: ${frame.stopped}` });
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
  if (hover && hover.kind === "neuron" && frame.neurons[hover.layer] && frame.neurons[hover.layer][hover.unit]) {
    paint(canvas, decode(frame.neurons[hover.layer][hover.unit]), { discretize: state.discretize });
    caption = `neuron ${hover.unit + 1} of hidden layer ${hover.layer + 1}`;
  } else if (hover && hover.kind === "feature" && data.feature_pictures[hover.index]) {
    paint(canvas, decode(data.feature_pictures[hover.index]));
    caption = `feature ${data.features[hover.index]}`;
  } else {
    paint(canvas, decode(frame.output.values), outputOptions(frame.output));
  }
  drawPoints(canvas, data.train, data.square, { task: data.task });
  if (state.show_test) drawPoints(canvas, data.test, data.square, { task: data.task, test: true });
  $("heatmap-caption").textContent = `${caption} over [${data.square.map((v) => v.toFixed(1)).join(", ")}]²`;
}

function showError({ message }) {
  page.errors.push(message);
  $("error").textContent = message;
  $("error").hidden = false;
  clearTimeout(errorTimer);
  errorTimer = setTimeout(() => { $("error").hidden = true; }, 8000);
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

$("play").addEventListener("click", () => socket.send({ type: page.playing ? "pause" : "play" }));
for (const id of ["step", "reset", "new_seed", "regenerate", "export"]) {
  $(id).addEventListener("click", () => socket.send({ type: id }));
}
$("reset").addEventListener("click", () => chart.update(0, []));
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
  socket.send({ type: "import", text: await file.text() });
});
$("heatmap").addEventListener("click", (event) => {
  const { state, data } = page;
  if (!state || !data || state.dataset !== "own") return;
  const box = event.target.getBoundingClientRect();
  const [low, high] = data.square;
  const x = low + ((event.clientX - box.left) / box.width) * (high - low);
  const y = high - ((event.clientY - box.top) / box.height) * (high - low);
  const label = state.problem === "regression" ? Number($("own-value").value) : Number($("own-class").value);
  socket.send({ type: "add_point", x, y, label });
});
$("upload").addEventListener("change", async (event) => {
  const file = event.target.files[0];
  event.target.value = "";
  if (!file) return;
  if (file.size > 512 * 1024) { showError({ message: `upload: ${file.name} is larger than 512 KiB` }); return; }
  socket.send({ type: "upload_csv", text: await file.text() });
});
$("view_toggle").addEventListener("click", () => {
  const racing = $("race").hidden;
  $("race").hidden = !racing;
  $("playground-view").hidden = racing;
  $("view_toggle").textContent = racing ? "playground" : "optimiser race";
  if (racing) race.open();
});
