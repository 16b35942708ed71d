// The page's strings in Korean and English: labels and the message for every warning and error
// code (docs/PROTOCOL.md and docs/protocol-notes.md), read from /static/languages/{lang}.json,
// data like the interviewer's languages/*.json. JSON modules load with the page's other modules,
// before the first render. Placeholders are `{name}`, filled by `fill`.
import en from "/static/languages/en.json" with { type: "json" };
import ko from "/static/languages/ko.json" with { type: "json" };

const STRINGS = { ko, en };

/** The languages the page speaks, Korean first. */
export const LANGUAGES = Object.keys(STRINGS);

/** `text` with each `{name}` replaced by `vars[name]` (a placeholder without a value stays as it is). */
function fill(text, vars = {}) {
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in vars ? String(vars[name]) : `{${name}}`));
}

/** The label `key` in `lang` (English, then the key itself, when it has none), filled from `vars`. */
export function translate(lang, key, vars = {}) {
  const labels = (STRINGS[lang] || en).labels;
  return fill(labels[key] ?? en.labels[key] ?? key, vars);
}

/** A clear message for a warning or error `code`; the server's own message for an unknown code. */
export function codeMessage(lang, code, fallback = "") {
  const codes = (STRINGS[lang] || en).codes;
  return codes[code] || en.codes[code] || translate(lang, "error.generic", { message: fallback || code });
}

/** Every code that has a message (the tests check the contract's codes against this). */
export const KNOWN_CODES = Object.keys(en.codes);
