// The interview page: start form, conversation, voice and text answers, streamed question
// audio, connection state, feedback, the report and the history of past interviews. All
// server traffic goes through the browser adapter (/client/interview-client.js); each
// concern has its own module, wired here.
import { initAnswers } from "/static/answer.js";
import { initCapabilities } from "/static/capabilities.js";
import { initDrafts } from "/static/drafts.js";
import { initEvents } from "/static/events.js";
import { initFeedback } from "/static/feedback.js";
import { initForm } from "/static/form.js";
import { initHistory } from "/static/history.js";
import { initMicrophone } from "/static/microphone.js";
import { initPlayer } from "/static/player.js";
import { client, state } from "/static/state.js";
import { installTestHook } from "/static/testhook.js";
import { syncCountdown } from "/static/timer.js";
import { addRenderer, applyI18n, render } from "/static/view.js";

function boot() {
  installTestHook();
  initFeedback();
  initHistory();
  addRenderer(syncCountdown);
  initEvents();
  initForm();
  initAnswers();
  initDrafts();
  initMicrophone();
  initPlayer();
  for (const radio of document.querySelectorAll('input[name="language"]')) radio.checked = radio.value === state.uiLang;
  applyI18n();
  // Resuming: the conversation comes with session_resumed.
  state.view = client.hasSession ? "interview" : "start";
  render();
  client.connect();
  initCapabilities();
}

boot();
