// The LLM explorer: the next token's odds, sampling and attention of a trained language model.
// The server runs the model (neuralab's own); this page sends the text and the settings and draws the answers.

const $ = (id) => document.getElementById(id);
const scheme = location.protocol === "https:" ? "wss" : "ws";
const socket = new WebSocket(`${scheme}://${location.host}/ws/explore`);
const state = { opened: null, prediction: null, runs: [], layer: 0, head: 0, playing: false, seed: 0, waiting: 0 };
window.explorer = { state };

function send(message) {
  if (socket.readyState === WebSocket.OPEN) {
    state.waiting += 1;
    socket.send(JSON.stringify(message));
  }
}

socket.addEventListener("open", () => { $("status").textContent = "connected"; });
socket.addEventListener("close", (event) => { $("status").textContent = `disconnected (${event.code})`; });
socket.addEventListener("message", (event) => {
  const message = JSON.parse(event.data);
  if (message.type === "runs") showRuns(message.runs);
  else if (message.type === "opened") showOpened(message);
  else if (message.type === "prediction") { state.waiting = Math.max(0, state.waiting - 1); showPrediction(message); }
  else if (message.type === "sampled") { state.waiting = Math.max(0, state.waiting - 1); showSampled(message); }
  else if (message.type === "error") { state.waiting = Math.max(0, state.waiting - 1); showError(message.message); }
});

function showError(text) {
  state.playing = false;
  $("play").innerHTML = "&#x25b6; play";
  $("error").textContent = text;
  $("error").hidden = false;
  clearTimeout(showError.timer);
  showError.timer = setTimeout(() => { $("error").hidden = true; }, 6000);
}

function showRuns(runs) {
  state.runs = runs;
  $("run").replaceChildren(...runs.map((name) => new Option(name, name)));
  if (!runs.length) showError("no language model here yet: neuralab train examples/shakespeare-char.yaml");
}

function showOpened(message) {
  state.opened = message;
  $("run").value = message.run;
  const loss = message.dev_loss == null ? "–" : message.dev_loss.toFixed(3);
  $("about").textContent = `${message.kind}, ${message.parameters.toLocaleString()} parameters, ` +
    `${message.vocab_size} ${message.tokenizer} tokens, dev loss ${loss}`;
  $("context").textContent = message.context == null ? "all" : String(message.context);
  predict();
}

// ------------------------------------------------------------------ the settings and the requests

function settings() {
  const topK = $("top_k").value.trim();
  const topP = Number($("top_p").value);
  return { prompt: $("prompt").value, temperature: Number($("temperature").value),
           top_k: topK === "" ? null : Number(topK), top_p: topP >= 1 ? null : topP };
}

let timer = null;
function predict() {
  clearTimeout(timer);
  timer = setTimeout(() => send({ type: "predict", ...settings() }), 120);
}

function sample(count) {
  state.seed += 1;
  send({ type: "sample", ...settings(), count, seed: (Number($("seed").value) || 0) + state.seed });
}

function showSampled(message) {
  $("prompt").value = message.prompt;
  send({ type: "predict", ...settings() });
  if (state.playing) setTimeout(() => { if (state.playing) sample(1); }, 60);
}

$("run").addEventListener("change", () => send({ type: "open", run: $("run").value }));
$("prompt").addEventListener("input", predict);
for (const name of ["temperature", "top_p"]) {
  $(name).addEventListener("input", () => {
    $(`${name}-value`).textContent = Number($(name).value).toFixed(2);
    predict();
  });
}
$("top_k").addEventListener("input", predict);
$("next").addEventListener("click", () => sample(1));
$("more").addEventListener("click", () => sample(20));
$("play").addEventListener("click", () => {
  state.playing = !state.playing;
  $("play").innerHTML = state.playing ? "&#x23f8; pause" : "&#x25b6; play";
  if (state.playing) sample(1);
});
$("layer").addEventListener("change", () => { state.layer = Number($("layer").value); drawAttention(); });
$("head").addEventListener("change", () => { state.head = Number($("head").value); drawAttention(); });

// ------------------------------------------------------------------ drawing

const shown = (text) => text.replace(/\n/g, "⏎").replace(/ /g, "␣").replace(/\t/g, "⇥") || "∅";

function showPrediction(message) {
  state.prediction = message;
  $("entropy").textContent = message.entropy.toFixed(3);
  $("uniform").textContent = `ln V = ${message.uniform.toFixed(3)}`;
  const rows = message.bars.map((bar) => {
    const row = document.createElement("li");
    row.className = "bar";
    row.innerHTML = `<span class="token"></span><span class="track"><span class="plain"></span>` +
      `<span class="drawn"></span></span><span class="value"></span>`;
    row.querySelector(".token").textContent = shown(bar.text);
    row.querySelector(".plain").style.width = `${100 * bar.softmax}%`;
    row.querySelector(".drawn").style.width = `${100 * bar.probability}%`;
    row.querySelector(".value").textContent = bar.probability.toFixed(4);
    return row;
  });
  $("bars").replaceChildren(...rows);
  const attention = message.attention;
  if (!attention) {
    $("attention-title").textContent = "— this model has no attention (a recurrent network)";
    $("layer").replaceChildren();
    $("head").replaceChildren();
    $("thumbnails").replaceChildren();
    $("heatmap").getContext("2d").clearRect(0, 0, $("heatmap").width, $("heatmap").height);
    return;
  }
  for (const [name, count] of [["layer", attention.layers], ["head", attention.heads]]) {
    if ($(name).options.length !== count) {
      $(name).replaceChildren(...Array.from({ length: count }, (_, i) => new Option(String(i + 1), String(i))));
    }
  }
  state.layer = Math.min(state.layer, attention.layers - 1);
  state.head = Math.min(state.head, attention.heads - 1);
  $("layer").value = String(state.layer);
  $("head").value = String(state.head);
  drawAttention();
}

function drawAttention() {
  const attention = state.prediction && state.prediction.attention;
  if (!attention) return;
  const { tokens, weights } = attention;
  $("layer").value = String(state.layer);
  $("head").value = String(state.head);
  $("attention-title").textContent = `— layer ${state.layer + 1}, head ${state.head + 1}, last ${tokens.length} tokens`;
  heatmap($("heatmap"), weights[state.layer][state.head], tokens, true);
  const thumbnails = [];
  for (let layer = 0; layer < attention.layers; layer += 1) {
    for (let head = 0; head < attention.heads; head += 1) {
      const canvas = document.createElement("canvas");
      canvas.width = 96;
      canvas.height = 96;
      canvas.title = `layer ${layer + 1}, head ${head + 1}`;
      canvas.dataset.layer = String(layer);
      canvas.dataset.head = String(head);
      if (layer === state.layer && head === state.head) canvas.classList.add("chosen");
      heatmap(canvas, weights[layer][head], tokens, false);
      canvas.addEventListener("click", () => { state.layer = layer; state.head = head; drawAttention(); });
      thumbnails.push(canvas);
    }
  }
  $("thumbnails").replaceChildren(...thumbnails);
}

function heatmap(canvas, matrix, tokens, labelled) {
  const context = canvas.getContext("2d");
  const margin = labelled ? 44 : 0;
  const size = Math.min(canvas.width, canvas.height) - margin;
  const count = matrix.length;
  const cell = size / Math.max(count, 1);
  context.clearRect(0, 0, canvas.width, canvas.height);
  context.fillStyle = "#fff";
  context.fillRect(margin, margin, size, size);
  for (let row = 0; row < count; row += 1) {
    for (let column = 0; column < count; column += 1) {
      const value = Math.max(0, Math.min(1, matrix[row][column]));
      if (value <= 0) continue;
      context.fillStyle = `rgba(31, 119, 180, ${value})`;
      context.fillRect(margin + column * cell, margin + row * cell, Math.ceil(cell), Math.ceil(cell));
    }
  }
  if (!labelled) return;
  context.fillStyle = "#333";
  context.font = `${Math.max(8, Math.min(13, cell * 0.8))}px ui-monospace, monospace`;
  context.textAlign = "right";
  context.textBaseline = "middle";
  tokens.forEach((token, index) => context.fillText(shown(token).slice(0, 5), margin - 4, margin + (index + 0.5) * cell));
  context.save();
  context.textAlign = "left";
  tokens.forEach((token, index) => {
    context.save();
    context.translate(margin + (index + 0.5) * cell, margin - 4);
    context.rotate(-Math.PI / 2);
    context.fillText(shown(token).slice(0, 5), 0, 0);
    context.restore();
  });
  context.restore();
}
