// What the benchmark's Node holders share (bench/node/hold.mjs, bench/node/resume.mjs): one JSON line
// per report on stdout, a timeout around each awaited step, and a bounded number of sessions opening
// at once.
export const CONFIG = { language: "en", mode: "text", max_questions: 5, job_title: "Backend Engineer" };
const CONCURRENCY = 50;
const TIMEOUT = 60000;

export const say = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");

export const withTimeout = (promise, what) =>
  Promise.race([promise, new Promise((_, reject) => setTimeout(() => reject(new Error(`${what} timed out`)), TIMEOUT).unref())]);

/** fn(item) for every item, CONCURRENCY at a time: [{ok: result} | {error: message}] in order. */
export async function limited(items, fn) {
  const results = [];
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      try { results[i] = { ok: await fn(items[i]) }; } catch (err) { results[i] = { error: String(err) }; }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, lane));
  return results;
}

/** ``count`` sessions opened by ``openOne``: the held ones, the first errors, and the seconds it took. */
export async function openAll(count, openOne) {
  const started = Date.now();
  const opened = await limited(Array.from({ length: count }), openOne);
  return {
    held: opened.filter((r) => r.ok).map((r) => r.ok),
    errors: opened.filter((r) => r.error).map((r) => r.error).slice(0, 3),
    seconds: (Date.now() - started) / 1000,
  };
}
