// Colours and pictures: decode the server's byte pictures and paint them, draw points.
// A value v in [-1, 1] arrives as the byte round((v + 1) * 127.5).

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

function mix(a, b, t) {
  return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];
}

/** The colour of a value in [-1, 1]: orange → grey → blue (sign only when discretised). */
export function valueColor(value, discretize = false) {
  if (discretize) return value >= 0 ? POSITIVE : NEGATIVE;
  const v = Math.max(-1, Math.min(1, value));
  return v < 0 ? mix(ZERO, NEGATIVE, -v) : mix(ZERO, POSITIVE, v);
}

export function classColor(index) {
  return CLASS_COLORS[index % CLASS_COLORS.length];
}

/** Paint a square picture (bytes, row by row from the top) onto a canvas, smoothed. */
export function paint(canvas, bytes, { classes = null, nClasses = 2, discretize = false } = {}) {
  const size = Math.round(Math.sqrt(bytes.length));
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
  target.clearRect(0, 0, canvas.width, canvas.height);
  target.drawImage(scratch, 0, 0, canvas.width, canvas.height);
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
