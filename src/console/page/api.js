// Calls to the console's API, with the token the page was opened with (the URL's fragment, which
// never reaches a server log).
export const token = new URLSearchParams(location.hash.slice(1)).get('token') ?? ''

/** A refused or failed API call, with the API's own code and the HTTP status. */
export class ApiError extends Error {
  constructor(code, message, status) {
    super(message)
    this.code = code
    this.status = status
  }
}

/** A path with its query. */
export function query(path, params) {
  return `${path}?${new URLSearchParams(params)}`
}

/** Calls the console API; rejects with an ApiError in the API's own words. */
export async function api(path, body) {
  const response = await fetch(path, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  })
  const answer = await response.json()
  if (!response.ok)
    throw new ApiError(
      answer.error?.code ?? 'ERROR',
      answer.error?.message ?? `HTTP ${response.status}`,
      response.status,
    )
  return answer
}

/** The runtime's events of one turn, as they arrive (`data: {...}` frames). */
export async function* chatEvents(body, signal) {
  const response = await fetch('/api/chat', {
    signal,
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  if (!response.ok) {
    const answer = await response.json()
    yield { type: 'error', code: answer.error?.code ?? 'ERROR', message: answer.error?.message ?? '' }
    return
  }
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader()
  let buffer = ''
  for (;;) {
    const { value, done } = await reader.read()
    if (done) return
    buffer += value
    let end
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const frame = buffer.slice(0, end)
      buffer = buffer.slice(end + 2)
      const data = frame
        .split('\n')
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(5).trimStart())
        .join('\n')
      if (data !== '') yield JSON.parse(data)
    }
  }
}
