// A websocket to this site that reconnects by itself, waiting longer after each failure.
// Messages are JSON objects both ways; a frame that is not JSON is dropped.
export function liveSocket(path, {onOpen = () => {}, onMessage = () => {}, onClose = () => {}} = {}) {
  let ws = null;
  let backoff = 250;
  const scheme = location.protocol === "https:" ? "wss://" : "ws://";

  function connect() {
    ws = new WebSocket(scheme + location.host + path);
    ws.onopen = () => { backoff = 250; onOpen(); };
    ws.onmessage = (e) => {
      let msg;
      try { msg = JSON.parse(e.data); } catch (_) { return; }
      onMessage(msg);
    };
    ws.onclose = () => {
      onClose();
      setTimeout(connect, backoff);
      backoff = Math.min(backoff * 2, 5000);
    };
  }
  connect();

  return {
    get open() { return ws !== null && ws.readyState === WebSocket.OPEN; },
    // False when the socket is down (reconnecting): the message was not sent.
    send(message) {
      if (!this.open) return false;
      ws.send(JSON.stringify(message));
      return true;
    },
  };
}

// The badge in the page's header that says whether the live connection is up.
export function connectionBadge(node, say) {
  return (ok) => {
    if (!node) return;
    node.textContent = say(ok ? "live" : "reconnecting");
    node.dataset.ok = ok ? "yes" : "no";
  };
}
