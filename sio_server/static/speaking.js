// How a spoken answer (or all of them) was said, from the feedback's `speaking`: pace, fillers, the longest pause
// and talk time as chips, and the server's hints (in the interview's language) below them. Never a score.
import { label } from "/static/state.js";
import { element } from "/static/view.js";

const num = (value) => (Number.isFinite(Number(value)) ? Number(value) : null);

/** The figures of `speaking` as short labels (those it has). */
function figures(s) {
  const out = [];
  const answers = num(s.answers);
  if (answers && answers > 1) out.push(["answers", label("speaking.answers", { count: answers })]);
  const rate = num(s.rate_per_min);
  if (rate !== null) out.push(["rate", label(s.unit === "syllables" ? "speaking.rate.syllables" : "speaking.rate.words", { rate: Math.round(rate) })]);
  const fillers = num(s.fillers_per_min);
  if (fillers !== null) {
    const heard = Object.entries(s.fillers_heard || {}).slice(0, 3).map(([word, n]) => `${word} ×${n}`).join(", ");
    out.push(["fillers", label(heard ? "speaking.fillers_heard" : "speaking.fillers", { per_min: fillers, heard })]);
  }
  const pause = num(s.longest_pause_s);
  if (pause !== null) out.push(["pause", label("speaking.pause", { pause })]);
  const talk = Math.round(num(s.talk_s) || 0);
  const limit = num(s.time_limit_s);
  out.push(["talk", limit && answers === 1 ? label("speaking.talk_limit", { talk, limit }) : label("speaking.talk", { talk })]);
  return out;
}

/** A block of chips and hints for `speaking`, or null when there is none (a typed answer). */
export function speakingBlock(speaking) {
  if (!speaking || typeof speaking !== "object") return null;
  const block = element("div", "speaking");
  const chips = element("ul", "speaking-figures");
  chips.setAttribute("aria-label", label("feedback.speaking"));
  for (const [name, text] of figures(speaking)) {
    const li = element("li", "speaking-figure", text);
    li.dataset.figure = name;
    chips.append(li);
  }
  block.append(chips);
  const hints = (Array.isArray(speaking.hints) ? speaking.hints : []).filter((h) => typeof h === "string" && h);
  if (hints.length) {
    const ul = element("ul", "speaking-hints");
    ul.append(...hints.map((h) => element("li", "", h)));
    block.append(ul);
  }
  return block;
}
