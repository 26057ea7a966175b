// The WebSocket to the server: JSON messages in both directions.

export function connect({ onMessage, onStatus }) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}/ws`);
  const pending = [];
  socket.addEventListener("open", () => {
    onStatus("connected");
    while (pending.length) socket.send(pending.shift());
  });
  socket.addEventListener("close", (event) => onStatus(`disconnected (${event.code})`));
  socket.addEventListener("message", (event) => onMessage(JSON.parse(event.data)));
  return {
    send(message) {
      const text = JSON.stringify(message);
      if (socket.readyState === WebSocket.OPEN) socket.send(text);
      else pending.push(text);
    },
  };
}
