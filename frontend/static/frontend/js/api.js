// The REST API as the labeling page uses it: session auth with Django's CSRF token on writes, JSON in and out.
// Errors come back as ApiError (the server answered 4xx/5xx) or NetworkError (no answer: retry later).

export class ApiError extends Error {
  constructor(status, body) {
    super(messageOf(body) || `The server answered ${status}.`);
    this.status = status;
    this.body = body || {};
  }
  get retryable() {
    return this.status >= 500 || this.status === 429;
  }
}

export class NetworkError extends Error {
  retryable = true;
}

function messageOf(body) {
  if (!body) return "";
  if (typeof body.detail === "string") return body.detail;
  return Object.entries(body).map(([field, errors]) => `${field}: ${[].concat(errors).join(" ")}`).join("; ");
}

function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  if (meta) return meta.content;
  const cookie = document.cookie.split("; ").find((pair) => pair.startsWith("csrftoken="));
  return cookie ? decodeURIComponent(cookie.split("=")[1]) : "";
}

/** A random key, generated once per submission and sent again with every retry of it. */
export function newIdempotencyKey() {
  if (crypto.randomUUID) return crypto.randomUUID(); // secure contexts only (localhost, https)
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

export async function request(method, url, { body, headers = {}, keepalive = false } = {}) {
  const sent = { Accept: "application/json", ...headers };
  if (body !== undefined) sent["Content-Type"] = "application/json";
  if (method !== "GET") sent["X-CSRFToken"] = csrfToken();
  let response;
  try {
    response = await fetch(url, {
      method, headers: sent, credentials: "same-origin", keepalive,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    throw new NetworkError(error.message);
  }
  if (response.status === 204) return { status: 204, data: null };
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, data);
  return { status: response.status, data };
}

/** The calls of one project's labeling page. */
export function projectApi(projectId) {
  const base = `/api/projects/${projectId}`;
  return {
    async next(exclude = []) {
      const ids = exclude.filter(Boolean).slice(0, 20);
      const query = ids.length ? `?exclude=${ids.join(",")}` : "";
      return (await request("GET", `${base}/next/${query}`)).data; // null on 204: nothing left
    },
    release(taskIds) {
      return request("POST", `${base}/release/`, { body: { tasks: taskIds }, keepalive: true });
    },
    async history(before = null, limit = 20) {
      const query = new URLSearchParams({ limit });
      if (before) query.set("before", before);
      return (await request("GET", `${base}/history/?${query}`)).data;
    },
    async progress() {
      return (await request("GET", `${base}/progress/`)).data;
    },
    async task(taskId) {
      return (await request("GET", `/api/tasks/${taskId}/`)).data;
    },
    async annotation(annotationId) {
      return (await request("GET", `/api/annotations/${annotationId}/`)).data;
    },
    createAnnotation(taskId, body, key) {
      return request("POST", `/api/tasks/${taskId}/annotations/`, { body, headers: { "Idempotency-Key": key } });
    },
    patchAnnotation(annotationId, body) {
      return request("PATCH", `/api/annotations/${annotationId}/`, { body });
    },
  };
}
