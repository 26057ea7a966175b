// Colours and pictures: decode the server's byte pictures and paint them, draw points and
// the colour legend. A value v in [-1, 1] arrives as the byte round((v + 1) * 127.5); weights
// arrive as little-endian float32 bytes.

export const NEGATIVE = [245, 147, 34];   // TF Playground's orange (−1, class 0)
export const ZERO = [232, 234, 235];
export const POSITIVE = [8, 119, 189];    // blue (+1, class 1)
export const CLASS_COLORS = [[245, 147, 34], [8, 119, 189], [67, 160, 71], [142, 36, 170], [229, 57, 53], [0, 137, 123]];

export function decode(base64) {
  const text = atob(base64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

/** The `index`-th of the equal pictures packed one after another in `bytes`. */
export function slice(bytes, index, size) {
  return bytes.subarray(index * size * size, (index + 1) * size * size);
}

/** A layer's weights and biases: {weights: rows of numbers (out × in), biases: numbers}. */
export function decodeWeights(layer) {
  const values = (base64) => Array.from(new Float32Array(decode(base64).buffer));
  const flat = values(layer.weights);
  const weights = [];
  for (let row = 0; row < layer.rows; row++) weights.push(flat.slice(row * layer.columns, (row + 1) * layer.columns));
  return { weights, biases: values(layer.biases) };
}

function mix(a, b, t) {
  return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];
}

export const NOT_A_NUMBER = [160, 160, 160];  // a diverged weight is drawn grey (as TF Playground does)

/** The colour of a value in [-1, 1]: orange → grey → blue (sign only when discretised). */
export function valueColor(value, discretize = false) {
  if (!Number.isFinite(value)) return NOT_A_NUMBER;
  if (discretize) return value >= 0 ? POSITIVE : NEGATIVE;
  const v = Math.max(-1, Math.min(1, value));
  return v < 0 ? mix(ZERO, NEGATIVE, -v) : mix(ZERO, POSITIVE, v);
}

export function classColor(index) {
  return CLASS_COLORS[index % CLASS_COLORS.length];
}

/** Paint a square picture (bytes, row by row from the top) onto a canvas, smoothed; `alpha`
 * below 1 lets a white background through, so points of the same colour stay visible. */
export function paint(canvas, bytes, { classes = null, nClasses = 2, discretize = false, alpha = 1 } = {}) {
  const size = Math.round(Math.sqrt(bytes.length));
  if (!size) return;  // a frame of the previous network, drawn into the new one's columns
  const scratch = document.createElement("canvas");
  scratch.width = scratch.height = size;
  const context = scratch.getContext("2d");
  const image = context.createImageData(size, size);
  for (let i = 0; i < size * size; i++) {
    let color;
    if (classes) {
      const confidence = bytes[i] / 255;
      const floor = 1 / nClasses;
      const strength = discretize ? 1 : Math.max(0, (confidence - floor) / (1 - floor));
      color = mix(ZERO, classColor(classes[i]), strength);
    } else {
      color = valueColor(bytes[i] / 127.5 - 1, discretize);
    }
    image.data.set([color[0], color[1], color[2], 255], i * 4);
  }
  context.putImageData(image, 0, 0);
  const target = canvas.getContext("2d");
  target.imageSmoothingEnabled = !discretize;
  target.fillStyle = "#fff";
  target.fillRect(0, 0, canvas.width, canvas.height);
  target.globalAlpha = alpha;
  target.drawImage(scratch, 0, 0, canvas.width, canvas.height);
  target.globalAlpha = 1;
}

/** The heat map's legend: the −1 … 1 colour scale (or one swatch per class), with its axis. */
export function drawLegend(canvas, { nClasses = 2, task = "binary", alpha = 1 } = {}) {
  const context = canvas.getContext("2d");
  const { width, height } = canvas;
  const bar = height - 14;
  context.clearRect(0, 0, width, height);
  context.font = "10px sans-serif";
  context.fillStyle = "#555";
  if (task === "multiclass") {
    const step = width / nClasses;
    for (let k = 0; k < nClasses; k++) {
      context.fillStyle = `rgba(${classColor(k).join(",")},${alpha})`;
      context.fillRect(k * step + 1, 0, step - 2, bar);
      context.fillStyle = "#555";
      context.fillText(`class ${k}`, k * step + 2, height - 2);
    }
    return;
  }
  for (let x = 0; x < width; x++) {
    const color = valueColor((x / (width - 1)) * 2 - 1);
    context.fillStyle = `rgba(${color.map(Math.round).join(",")},${alpha})`;
    context.fillRect(x, 0, 1, bar);
  }
  context.fillStyle = "#555";
  context.textAlign = "left"; context.fillText("−1", 0, height - 2);
  context.textAlign = "center"; context.fillText("0", width / 2, height - 2);
  context.textAlign = "right"; context.fillText("1", width, height - 2);
  context.textAlign = "left";
}

/** Draw data points (raw coordinates in the square [low, high]²) over a canvas. */
export function drawPoints(canvas, points, square, { task, test = false, radius = 3 }) {
  const context = canvas.getContext("2d");
  const [low, high] = square;
  const scale = canvas.width / (high - low);
  for (let i = 0; i < points.x.length; i++) {
    const x = (points.x[i] - low) * scale;
    const y = (high - points.y[i]) * scale;
    const label = points.label[i];
    const color = task === "regression" ? valueColor(label) : task === "binary"
      ? (label >= 1 ? POSITIVE : NEGATIVE) : classColor(label);
    context.beginPath();
    context.arc(x, y, radius, 0, 2 * Math.PI);
    context.fillStyle = `rgb(${color.map(Math.round).join(",")})`;
    context.fill();
    if (radius < 2) continue;
    context.lineWidth = 1;
    context.strokeStyle = test ? "#000" : "#fff";
    context.stroke();
  }
}
