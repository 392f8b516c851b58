/** What a failed InvokeAgentRuntime call says, for people: `longrun invoke`, `longrun chat` and the console. */

/**
 * A failed call in the runtime's own words where it gave them: the gateway reports a runtime's
 * error answer as `RuntimeClientError: Runtime answered 400: {"error":{...}}`.
 */
export function describeInvokeError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error)
  const name = error instanceof Error ? error.name : 'Error'
  const body = /Runtime answered (\d+): (\{[\s\S]*\})$/.exec(message)
  if (body?.[2]) {
    try {
      const parsed = JSON.parse(body[2]) as { error?: { code?: string; message?: string } }
      if (parsed.error?.code) return `${parsed.error.code}: ${parsed.error.message ?? ''} (HTTP ${body[1]})`
    } catch {
      // Not the runtime's JSON error: fall through to the raw message.
    }
  }
  return `${name}: ${message}`
}
