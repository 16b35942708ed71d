// The page's HTTP calls besides the socket: what the server can do, résumé upload and a session's report. A refusal
// (the `{"error": {"code", "message"}}` body) throws the adapter's InterviewError.
import { InterviewError } from "/client/interview-client.js";

async function call(url, options = {}) {
  let response;
  try {
    response = await fetch(url, options);
  } catch {
    throw new InterviewError("connection_lost", "the request could not be sent");
  }
  if (response.ok) return response;
  const body = await response.json().catch(() => ({}));
  const error = body.error || {};
  throw new InterviewError(error.code || `http_${response.status}`, error.message || response.statusText);
}

/** This browser's IANA time zone ("Asia/Seoul"): the report's dates are shown in it. */
function timeZone() {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  } catch {
    return "UTC";
  }
}

const sessionPath = (sessionId) => `/api/v1/sessions/${encodeURIComponent(sessionId)}`;
const reportUrl = (sessionId, format) =>
  `${sessionPath(sessionId)}/report?format=${encodeURIComponent(format)}&tz=${encodeURIComponent(timeZone())}`;
const bearer = (token) => ({ Authorization: `Bearer ${token}` });

/** The report as data: `{session_id, status, config, turns, feedback}`. */
export async function fetchReportData(sessionId, token) {
  const response = await call(reportUrl(sessionId, "json"), { headers: bearer(token) });
  return response.json();
}

/** The report as a file: `{blob, filename}` (Markdown or HTML). */
export async function fetchReportFile(sessionId, token, format = "md") {
  const response = await call(reportUrl(sessionId, format), { headers: bearer(token) });
  const disposition = response.headers.get("Content-Disposition") || "";
  const match = /filename="([^"]+)"/.exec(disposition);
  return { blob: await response.blob(), filename: match ? match[1] : `interview-report.${format}` };
}

/** A URL that opens the HTML report for a few minutes without the token (`POST …/report-link`): `{url, expires_at}`. */
export async function fetchReportLink(sessionId, token) {
  const url = `${sessionPath(sessionId)}/report-link?tz=${encodeURIComponent(timeZone())}`;
  const response = await call(url, { method: "POST", headers: bearer(token) });
  return response.json();
}

/** Upload a PDF or DOCX résumé; the server answers its text: `{text, pages?, truncated}`.
 * The X-Requested-With header is required by the server: a foreign page cannot send it without a preflight. */
export async function uploadResume(file) {
  const body = new FormData();
  body.append("file", file, file.name);
  const headers = { "X-Requested-With": "interview-page" };
  const response = await call("/api/v1/resume", { method: "POST", body, headers });
  return response.json();
}

/** What this server can do: `{languages, spoken_questions, voice_answers, hands_free}`, each mode `{available, languages, providers}`. */
export async function fetchCapabilities() {
  const response = await call("/api/v1/capabilities");
  return response.json();
}
