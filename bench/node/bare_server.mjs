// The Node peer of bench/bare_server.py: the official `socket.io` server (pinned in
// package.json) with no application logic, for the memory and ingest benchmarks.
//
//   node bench/node/bare_server.mjs PORT
//
// Namespace /interview; every socket joins one room of its own (as the app's
// sockets do); `audio_chunk` puts the bytes in a bounded per-socket queue (100,
// dropping when full) and counts them. GET /stats answers {"chunks","bytes","dropped"};
// GET /healthz answers 200. maxHttpBufferSize as the Python servers (524288);
// permessage-deflate off (the socket.io default).
import { createServer } from "node:http";
import { Server } from "socket.io";

const port = Number(process.argv[2]);
const stats = { chunks: 0, bytes: 0, dropped: 0 };
const http = createServer((req, res) => {
  if (req.url === "/stats" || req.url === "/healthz") {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify(req.url === "/stats" ? stats : { status: "ok" }));
  } else if (!req.url.startsWith("/socket.io")) {
    res.writeHead(404);
    res.end();
  }
});
const io = new Server(http, { maxHttpBufferSize: 524288, cors: { origin: "*" } });
io.of("/interview").on("connection", (socket) => {
  socket.join(`room-${socket.id}`);
  const queue = [];
  socket.on("audio_chunk", (data) => {
    stats.chunks += 1;
    stats.bytes += data.length;
    if (queue.length >= 100) stats.dropped += 1;
    else queue.push(data);
  });
});
http.listen({ port, host: "127.0.0.1", backlog: 4096 }); // the listen backlog of the Python servers
process.on("SIGTERM", () => process.exit(0));
