// Holds N Socket.IO sessions open with the official socket.io-client (websocket
// transport, no permessage-deflate), for the memory benchmark (bench/memory.py).
//
//   node bench/node/hold.mjs URL N MODE      MODE: "interview" | "bare"
//
// "interview": each socket starts a text interview on /interview and waits for its
// first `question`; "bare": each socket only connects to /interview. Prints one JSON
// line when all are open ({"opened", "errors", "seconds"}), then waits for a line on
// stdin: "end" ends every interview (end_interview, then `feedback`) and disconnects,
// printing {"ended", "errors"}; the process then exits.
import { createInterface } from "node:readline";
import { io } from "socket.io-client";
import { CONFIG, limited, openAll, say, withTimeout } from "./holders.mjs";

const [url, countArg, mode] = process.argv.slice(2);
const count = Number(countArg);
const once = (socket, event) => new Promise((resolve) => socket.once(event, resolve));

async function openOne() {
  const socket = io(`${url}/interview`, {
    transports: ["websocket"], reconnection: false, forceNew: true, perMessageDeflate: false,
  });
  const held = { socket, feedback: null };
  await withTimeout(once(socket, "connect"), "connect");
  if (mode === "interview") {
    const question = once(socket, "question");
    held.feedback = once(socket, "feedback");
    const ack = await withTimeout(socket.emitWithAck("start_interview", CONFIG), "start_interview");
    if (!ack.ok) throw new Error(`start_interview: ${JSON.stringify(ack)}`);
    await withTimeout(question, "first question");
  }
  return held;
}

async function endOne(held) {
  try {
    if (mode === "interview" && held.socket.connected) {
      await withTimeout(held.socket.emitWithAck("end_interview", {}), "end_interview");
      await withTimeout(held.feedback, "feedback");
    }
  } finally {
    held.socket.disconnect();
  }
}

const { held, errors, seconds } = await openAll(count, openOne);
say({ opened: held.length, errors, seconds });

const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  if (line.trim() !== "end") continue;
  const ended = await limited(held, endOne);
  say({ ended: ended.filter((r) => "ok" in r).length, errors: ended.filter((r) => r.error).map((r) => r.error).slice(0, 3) });
  break;
}
process.exit(0);
