// fetch() for the Hallmark API: JSON in and out, errors as ApiError with the field messages the API names, and an
// Idempotency-Key on every staff write. Staff are signed in by the session cookie (HttpOnly: this code never
// sees it); their writes carry the X-CSRF-Token of GET /api/session, kept in memory only.

let csrfToken = null;

export const csrf = {
  set: (token) => { csrfToken = token; },
  clear: () => { csrfToken = null; },
};

// the signed-in person's permissions (GET /api/session): views offer only the writes the server would allow
let granted = new Set();

export const permissions = {
  set: (list) => { granted = new Set(list); },
  may: (permission) => granted.has(permission),
};

async function currentCsrf() {
  if (!csrfToken) csrfToken = (await api("/api/session", { staff: true })).csrf;
  return csrfToken;
}

export class ApiError extends Error {
  /** status 0 means the request never got an answer (network down, server gone). */
  constructor(status, body = {}) {
    super(body.message || `HTTP ${status}`);
    this.status = status;
    this.fields = flattenErrors(body.errors);
  }
}

/** {json: {wallet: ["..."]}, query: {...}} -> {wallet: "..."}; nested schema errors join their messages. */
function flattenErrors(errors) {
  const fields = {};
  for (const location of Object.values(errors || {})) {
    for (const [field, messages] of Object.entries(location || {})) {
      fields[field] = Array.isArray(messages) ? messages.join(" ") : Object.values(messages).flat().join(" ");
    }
  }
  return fields;
}

// One Idempotency-Key per submission: retrying the same body after a lost answer or a server error reuses it
// (so nothing happens twice); an answered request (done, or refused and forgotten by the server) ends it.
const pending = new Map();

function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  // crypto.randomUUID needs a secure context; a branch intranet on plain http may not be one
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * api("/api/claims", {method: "POST", json: {...}})
 * options: json (body), form (FormData), staff (a console call: CSRF header on writes, 401 signs out), idempotent (a name for this kind of submission;
 * `same` identifies the body when it is not JSON, e.g. a file), raw (return the Response), headers (extra ones, e.g.
 * a custodial customer's X-Customer-Assertion).
 */
export async function api(path, { method = "GET", json, form, staff = false, idempotent, same, raw = false,
  headers: extra = {}, retried = false } = {}) {
  const headers = { Accept: "application/json", ...extra };
  let body;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  } else if (form) {
    body = form;
  }
  const write = !["GET", "HEAD"].includes(method);
  if (staff && write) headers["X-CSRF-Token"] = await currentCsrf();
  let submission;
  if (idempotent) {
    const fingerprint = `${path}\n${same ?? body ?? ""}`;
    submission = pending.get(idempotent);
    if (!submission || submission.fingerprint !== fingerprint) {
      submission = { fingerprint, key: uuid() };
      pending.set(idempotent, submission);
    }
    headers["Idempotency-Key"] = submission.key;
  }
  let reply;
  try {
    reply = await fetch(path, { method, headers, body, credentials: "same-origin" });
  } catch {
    throw new ApiError(0, {});
  }
  if (idempotent && reply.status < 500) pending.delete(idempotent);
  if (!reply.ok) {
    const error = new ApiError(reply.status, await reply.json().catch(() => ({})));
    if (reply.status === 403 && staff && write && error.message.includes("X-CSRF-Token") && !retried) {
      csrf.clear(); // a new session since the token was read: read it again, once
      return api(path, { method, json, form, staff, idempotent, same, raw, headers: extra, retried: true });
    }
    if (reply.status === 401 && staff) document.dispatchEvent(new CustomEvent("signedout", { detail: error }));
    throw error;
  }
  return raw ? reply : reply.json();
}
