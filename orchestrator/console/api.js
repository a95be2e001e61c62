// The orchestrator's API, same origin: the console sees what lms-cli sees and nothing more.

async function call(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: body === undefined ? {} : { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: "no-store",
  });
  let data = null;
  try {
    data = await response.json();
  } catch {
    throw new Error(`${method} ${path}: HTTP ${response.status}, not JSON`);
  }
  if (!response.ok) {
    const error = new Error(data && data.error ? data.error : `${method} ${path}: HTTP ${response.status}`);
    error.status = response.status;
    error.data = data;
    throw error;
  }
  return data;
}

export const get = (path) => call("GET", path);
export const post = (path, body) => call("POST", path, body);

// The latest attempt, or null when there was none yet.
export async function latestCutover() {
  const { attempts } = await get("/v1/cutover/history?limit=1");
  return attempts.length ? attempts[0] : null;
}

export const inProgress = (attempt) =>
  attempt !== null && ["Began", "TrafficPaused", "Committing"].includes(attempt.status);
