// The sequence page: a recurrent network learning a sequence task, drawn frame by frame.
// The server trains (neuralab's engine); this page only sends the controls and draws what comes back.

const $ = (id) => document.getElementById(id);
const scheme = location.protocol === "https:" ? "wss" : "ws";
const socket = new WebSocket(`${scheme}://${location.host}/ws/sequence`);
let playing = false;

function send(message) {
  if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
}

socket.addEventListener("open", () => { $("status").textContent = "connected"; });
socket.addEventListener("close", (event) => { $("status").textContent = `disconnected (${event.code})`; });
socket.addEventListener("message", (event) => {
  const message = JSON.parse(event.data);
  if (message.type === "config") showConfig(message);
  else if (message.type === "frame") drawFrame(message);
  else if (message.type === "playing") setPlaying(message.playing);
  else if (message.type === "error") showError(message.message);
});

function showError(text) {
  $("error").textContent = text;
  $("error").hidden = false;
  setTimeout(() => { $("error").hidden = true; }, 6000);
}

function setPlaying(value) {
  playing = value;
  $("play").innerHTML = playing ? "&#x23f8;" : "&#x25b6;";
}

function showConfig({ settings, choices }) {
  for (const name of ["cell", "task"]) {
    const select = $(name);
    select.replaceChildren(...choices[name].map((choice) => new Option(choice, choice)));
    select.value = settings[name];
  }
  // a field being typed in keeps what the user typed: the reply to an earlier change (sent before they
  // finished) must not overwrite it; their own change is sent when they leave the field
  for (const [name, value] of [["length", settings.length], ["hidden_size", settings.hidden_size],
                               ["learning_rate", String(settings.learning_rate)]]) {
    if (document.activeElement !== $(name)) $(name).value = value;
  }
}

for (const name of ["cell", "task", "learning_rate"]) {
  $(name).addEventListener("change", () => {
    const value = name === "learning_rate" ? Number($(name).value) : $(name).value;
    send({ type: "configure", [name]: value });
  });
}
for (const name of ["length", "hidden_size"]) {
  $(name).addEventListener("change", () => send({ type: "configure", [name]: Number($(name).value) }));
}
$("play").addEventListener("click", () => send({ type: playing ? "pause" : "play" }));
$("step").addEventListener("click", () => send({ type: "step" }));
$("reset").addEventListener("click", () => send({ type: "reset" }));

// ------------------------------------------------------------------ drawing

function axes(canvas, { xMax, yMin, yMax, log }) {
  const context = canvas.getContext("2d");
  const pad = { left: 52, right: 10, top: 10, bottom: 24 };
  const width = canvas.width - pad.left - pad.right;
  const height = canvas.height - pad.top - pad.bottom;
  const ty = (v) => (log ? Math.log10(v) : v);
  const [low, high] = [ty(yMin), ty(yMax)];
  const x = (i) => pad.left + (width * (i - 1)) / Math.max(xMax - 1, 1);
  const y = (v) => pad.top + height * (1 - (ty(v) - low) / (high - low || 1));
  context.clearRect(0, 0, canvas.width, canvas.height);
  context.strokeStyle = "#999";
  context.strokeRect(pad.left, pad.top, width, height);
  context.fillStyle = "#555";
  context.font = "11px system-ui";
  for (const value of [yMin, yMax]) {
    context.fillText(log ? value.toExponential(0) : value.toPrecision(3), 4, y(value) + 4);
  }
  context.fillText(`1 … ${xMax}`, pad.left, canvas.height - 6);
  return { context, x, y };
}

function line(plot, values, color, dash = []) {
  const { context, x, y } = plot;
  context.strokeStyle = color;
  context.setLineDash(dash);
  context.beginPath();
  let started = false;
  values.forEach((value, index) => {
    if (value === null || !Number.isFinite(value)) { started = false; return; }
    if (started) context.lineTo(x(index + 1), y(value));
    else context.moveTo(x(index + 1), y(value));
    started = true;
  });
  context.stroke();
  context.setLineDash([]);
}

function drawFrame(frame) {
  $("epoch").textContent = frame.epoch;
  $("baseline_rule").textContent = `${frame.baseline.toPrecision(3)} — ${frame.baseline_rule}`;
  const train = frame.losses.map((row) => row.train);
  const dev = frame.losses.map((row) => row.dev);
  const finite = [...train, ...dev, frame.baseline].filter((v) => v !== null && Number.isFinite(v));
  const loss = axes($("loss"), { xMax: Math.max(frame.losses.length, 2), yMin: 0, yMax: Math.max(...finite) * 1.1 });
  line(loss, Array(Math.max(frame.losses.length, 2)).fill(frame.baseline), "#555", [6, 4]);
  line(loss, train, "#1f77b4");
  line(loss, dev, "#ff7f0e");

  const positive = frame.gradient.filter((v) => v !== null && v > 0);
  if (positive.length) {
    const low = Math.max(Math.min(...positive), 1e-30);
    const gradient = axes($("gradient"), { xMax: frame.gradient.length, yMin: low / 2, yMax: Math.max(...positive) * 2,
                                           log: true });
    line(gradient, frame.gradient.map((v) => (v !== null && v > 0 ? v : null)), "#2ca02c");
  }
  $("ratio").textContent = frame.ratio === null ? "—" : frame.ratio.toExponential(1);
  drawHidden(frame.hidden);
  $("sequence").textContent = frame.sequence.join(frame.sequence[0].length > 1 ? " " : "");
  if (frame.stopped) setPlaying(false);
}

function drawHidden(rows) {
  const canvas = $("hidden");
  const context = canvas.getContext("2d");
  context.clearRect(0, 0, canvas.width, canvas.height);
  if (!rows.length) return;
  const cellWidth = canvas.width / rows[0].length;
  const cellHeight = canvas.height / rows.length;
  rows.forEach((row, unit) => row.forEach((value, step) => {
    const v = Math.max(-1, Math.min(1, value));
    const [r, g, b] = v >= 0 ? [255, 255 * (1 - v), 255 * (1 - v)] : [255 * (1 + v), 255 * (1 + v), 255];
    context.fillStyle = `rgb(${r | 0}, ${g | 0}, ${b | 0})`;
    context.fillRect(step * cellWidth, unit * cellHeight, Math.ceil(cellWidth), Math.ceil(cellHeight));
  }));
}
