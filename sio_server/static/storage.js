// Browser storage for the page's own keys: sessionStorage for this tab's interview
// (UI and interview language) and localStorage for what outlives the tab (history, the
// last set-up, typed answers not yet sent). Storage may be disabled: reads then return
// null and writes do nothing.

export const PAGE_KEYS = Object.freeze({
  uiLang: "interview.ui_lang",
  language: "interview.language",
  timeLimit: "interview.answer_time_limit_s",
  history: "interview.history",
  setup: "interview.setup",
  draftPrefix: "interview.draft.", // + "<session id>.<question index>"
});

function write(area, key, value) {
  try {
    if (value === null) area().removeItem(key);
    else area().setItem(key, value);
  } catch {
    /* storage disabled */
  }
}

function read(area, key) {
  try {
    return area().getItem(key);
  } catch {
    return null;
  }
}

const session = () => window.sessionStorage;
const local = () => window.localStorage;

/** Keep `value` for this tab (null removes it). */
export const store = (key, value) => write(session, key, value);
/** This tab's value for `key`, or null. */
export const load = (key) => read(session, key);
/** Keep `value` on this browser (null removes it). */
export const storeLocal = (key, value) => write(local, key, value);
/** This browser's value for `key`, or null. */
export const loadLocal = (key) => read(local, key);

/** Remove every key of this browser that starts with `prefix`. */
export function dropLocal(prefix) {
  try {
    const keys = [];
    for (let i = 0; i < local().length; i += 1) {
      const key = local().key(i);
      if (key && key.startsWith(prefix)) keys.push(key);
    }
    for (const key of keys) local().removeItem(key);
  } catch {
    /* storage disabled */
  }
}
