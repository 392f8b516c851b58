/**
 * One InvokeAgentRuntime call as `longrun invoke`, `longrun chat` and the console make it, and
 * what a failed one says, in the runtime's own words where it gave them.
 */
import { InvokeAgentRuntimeCommand } from '@aws-sdk/client-bedrock-agentcore'

/** What an invocation sends: the runtime, the session, and the payload the runtime reads. */
export interface RuntimeInvocation {
  readonly runtimeArn: string
  readonly sessionId: string
  readonly prompt: string
  readonly actorId?: string | undefined
  readonly memoryId?: string | undefined
  /** Ask for the JSON answer instead of the event stream. */
  readonly json?: boolean
}

/** The command for one invocation (a JSON payload, the stream asked for unless `json`). */
export function invocationCommand(invocation: RuntimeInvocation): InvokeAgentRuntimeCommand {
  const payload = {
    prompt: invocation.prompt,
    ...(invocation.actorId !== undefined && { actor_id: invocation.actorId }),
    ...(invocation.memoryId !== undefined && { memory_id: invocation.memoryId }),
  }
  return new InvokeAgentRuntimeCommand({
    agentRuntimeArn: invocation.runtimeArn,
    qualifier: 'DEFAULT',
    runtimeSessionId: invocation.sessionId,
    contentType: 'application/json',
    accept: invocation.json ? 'application/json' : 'text/event-stream',
    payload: new TextEncoder().encode(JSON.stringify(payload)),
  })
}

/** A failed invocation: the runtime's error code (or the error's name) and a line for people. */
export interface InvokeFailure {
  readonly code: string
  readonly message: string
}

/**
 * Reads a failed call: the gateway reports a runtime's error answer as
 * `RuntimeClientError: Runtime answered 400: {"error":{...}}`, whose code and message are the
 * runtime's; any other error is told by its name.
 */
export function invokeFailureOf(error: unknown): InvokeFailure {
  const message = error instanceof Error ? error.message : String(error)
  const name = error instanceof Error ? error.name : 'Error'
  const body = /Runtime answered (\d+): (\{[\s\S]*\})$/.exec(message)
  if (body?.[2]) {
    try {
      const parsed = JSON.parse(body[2]) as { error?: { code?: string; message?: string } }
      const code = parsed.error?.code
      if (code) return { code, message: `${code}: ${parsed.error?.message ?? ''} (HTTP ${body[1]})` }
    } catch {
      // Not the runtime's JSON error: fall through to the raw message.
    }
  }
  return { code: name, message: `${name}: ${message}` }
}

/** The line for people of a failed call. */
export function describeInvokeError(error: unknown): string {
  return invokeFailureOf(error).message
}
