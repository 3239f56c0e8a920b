// The HTTP/JSON API (WEBD.md). Every request is same-origin with the session
// cookie; every POST carries the session's CSRF token (X-CSRF-Token), which
// /api/login and /api/me hand out.

let csrf = '';
let onUnauthorised = () => {};
let onMustChange = () => {};

export function setCsrf(t) { csrf = t || ''; }
export function setHandlers(unauth, mustChange) {
  onUnauthorised = unauth;
  onMustChange = mustChange;
}

export class ApiError extends Error {
  constructor(status, body) {
    const msg = (body && body.error) || ('HTTP ' + status);
    super(msg);
    this.status = status;
    this.body = body || {};
    this.field = body && body.field;
  }
  // What a page shows: the server's own words with the status, so a
  // refusal reads as the server's ("Refused (403): needs role operator").
  describe() {
    const what = this.status === 403 ? 'Refused' : this.status === 422 ? 'Not accepted' : 'Error';
    return `${what} (${this.status}): ${this.message}`;
  }
}

export async function api(method, path, body, opts = {}) {
  const init = {method, credentials: 'same-origin', headers: {Accept: 'application/json'}, cache: 'no-store'};
  if (method !== 'GET') {
    init.headers['X-CSRF-Token'] = csrf;
    if (body instanceof Blob) { // a file as it is (a restore archive)
      init.headers['Content-Type'] = 'application/octet-stream';
      init.body = body;
    } else {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body || {});
    }
  }
  let r;
  try {
    r = await fetch(path, init);
  } catch (e) {
    throw new ApiError(0, {error: 'webd does not answer (' + e.message + ')'});
  }
  let j = null;
  const text = await r.text();
  if (text) {
    try { j = JSON.parse(text); } catch { j = {error: text.slice(0, 200)}; }
  }
  if (!r.ok) {
    const e = new ApiError(r.status, j);
    if (r.status === 401 && !opts.quiet401) onUnauthorised();
    if (r.status === 403 && /password change required/.test(e.message)) onMustChange();
    throw e;
  }
  return j || {};
}

export const get = (path, opts) => api('GET', path, null, opts);
export const post = (path, body, opts) => api('POST', path, body, opts);

export function qs(params) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') p.set(k, v);
  return p.toString();
}
