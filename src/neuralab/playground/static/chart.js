// The loss curve: training (grey) and test (black) loss per epoch, y from the running min to max.

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
    const { canvas, points } = this;
    const context = canvas.getContext("2d");
    context.clearRect(0, 0, canvas.width, canvas.height);
    const values = points.flatMap((p) => [p[1], p[2]]).filter((v) => v !== null && Number.isFinite(v));
    if (points.length < 2 || !values.length) return;
    const low = Math.min(...values), high = Math.max(...values);
    const span = high - low || 1;
    const x = (i) => (i / (points.length - 1)) * (canvas.width - 4) + 2;
    const y = (v) => canvas.height - 3 - ((v - low) / span) * (canvas.height - 6);
    for (const [column, color] of [[1, "#777"], [2, "#000"]]) {
      context.beginPath();
      points.forEach((p, i) => {
        if (p[column] === null) return;
        if (i === 0) context.moveTo(x(i), y(p[column])); else context.lineTo(x(i), y(p[column]));
      });
      context.strokeStyle = color;
      context.lineWidth = 1.5;
      context.stroke();
    }
  }
}
