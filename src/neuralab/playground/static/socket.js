// The WebSocket to the server: JSON messages in both directions. A lost connection is said
// plainly and retried with back-off (0.5 s, 1 s, 2 s … at most 10 s); nothing is queued
// while it is down (a control changed then is not sent: the page says so), and every
// (re)connection calls onOpen, which restores the experiment from the URL.

const CLOSE_REASONS = {
  1000: "the server closed the connection",
  1001: "the server is going away (restarted or stopped)",
  1006: "the connection was lost (server stopped or network down)",
  1008: "the server refused this page (wrong host, origin or token)",
  1009: "the server refused a message that was too large",
  1011: "the server hit an internal error",
  1013: "the server is busy (too many tabs)",
};

export function connect({ onMessage, onOpen, onStatus }) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  let socket = null;
  let delay = 500;
  let timer = null;
  let everOpen = false;

  function open() {
    socket = new WebSocket(`${scheme}://${location.host}/ws`);
    socket.addEventListener("open", () => {
      delay = 500;
      onStatus({ connected: true, text: everOpen ? "reconnected" : "connected" });
      onOpen({ reconnected: everOpen });
      everOpen = true;
    });
    socket.addEventListener("close", (event) => {
      const reason = CLOSE_REASONS[event.code] || `the connection closed (code ${event.code})`;
      const seconds = delay / 1000;
      onStatus({ connected: false, text: `Disconnected: ${reason}. Reconnecting in ${seconds} s…`, code: event.code });
      clearTimeout(timer);
      timer = setTimeout(open, delay);
      delay = Math.min(delay * 2, 10000);
    });
    socket.addEventListener("message", (event) => onMessage(JSON.parse(event.data)));
  }
  open();

  return {
    /** Send a message; false (and nothing queued) while the connection is down. */
    send(message) {
      if (!socket || socket.readyState !== WebSocket.OPEN) return false;
      socket.send(JSON.stringify(message));
      return true;
    },
    get connected() { return Boolean(socket && socket.readyState === WebSocket.OPEN); },
  };
}
