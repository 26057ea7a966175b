// The loss chart: training (grey) and test (black) loss per epoch, with axes: loss from the
// running min to max on the left, epochs along the bottom. Long runs are thinned to one
// point per pixel column.

const LEFT = 40, BOTTOM = 16, TOP = 6, RIGHT = 6;

function tick(value) {
  if (value === 0) return "0";
  return Math.abs(value) >= 1000 || Math.abs(value) < 0.01 ? value.toExponential(1) : value.toPrecision(3);
}

export class LossChart {
  constructor(canvas) {
    this.canvas = canvas;
    this.points = [];
  }

  /** Keep the first `from` points and append the new ones (the server sends only what is new). */
  update(from, points) {
    this.points.length = Math.min(this.points.length, from);
    this.points.push(...points);
    this.draw();
  }

  draw() {
    const { canvas } = this;
    const context = canvas.getContext("2d");
    const { width, height } = canvas;
    const plotWidth = width - LEFT - RIGHT, plotHeight = height - TOP - BOTTOM;
    context.clearRect(0, 0, width, height);
    context.font = "10px sans-serif";
    context.strokeStyle = "#999";
    context.lineWidth = 1;
    context.beginPath();
    context.moveTo(LEFT, TOP); context.lineTo(LEFT, TOP + plotHeight); context.lineTo(LEFT + plotWidth, TOP + plotHeight);
    context.stroke();
    const stride = Math.max(1, Math.ceil(this.points.length / plotWidth));
    const points = this.points.filter((_, i) => i % stride === 0 || i === this.points.length - 1);
    const values = points.flatMap((p) => [p[1], p[2]]).filter((v) => v !== null && Number.isFinite(v));
    context.fillStyle = "#555";
    context.fillText("epoch", LEFT + plotWidth - 28, height - 3);
    if (points.length < 2 || !values.length) {
      context.fillText("loss", 4, TOP + 10);
      return;
    }
    const low = Math.min(...values), high = Math.max(...values);
    const span = high - low || 1;
    const first = points[0][0], last = points[points.length - 1][0];
    const x = (epoch) => LEFT + ((epoch - first) / (last - first || 1)) * plotWidth;
    const y = (v) => TOP + plotHeight - ((v - low) / span) * plotHeight;
    context.textAlign = "right";
    context.fillText(tick(high), LEFT - 3, TOP + 8);
    context.fillText(tick(low), LEFT - 3, TOP + plotHeight);
    context.textAlign = "left";
    context.fillText(String(first), LEFT, height - 3);
    context.fillText(String(last), LEFT + plotWidth / 2, height - 3);
    for (const [column, color] of [[1, "#888"], [2, "#000"]]) {
      context.beginPath();
      let drawing = false;
      for (const point of points) {
        const value = point[column];
        if (value === null || !Number.isFinite(value)) { drawing = false; continue; }
        if (drawing) context.lineTo(x(point[0]), y(value)); else context.moveTo(x(point[0]), y(value));
        drawing = true;
      }
      context.strokeStyle = color;
      context.lineWidth = 1.5;
      context.stroke();
    }
    context.fillStyle = "#888"; context.fillText("train", LEFT + plotWidth - 62, TOP + 9);
    context.fillStyle = "#000"; context.fillText("test", LEFT + plotWidth - 30, TOP + 9);
  }
}
