/**
 * What a failed invocation says, for both ways of signing it. The local gateway (and AgentCore)
 * report a runtime's own error answer as `RuntimeClientError: Runtime answered 401: {"error":{...}}`:
 * its code and message are the runtime's. A refused bearer token gets one code of its own, naming
 * where the token came from.
 */
import type { InvokeFailure } from './runtime-invoker.ts'

/** The code of a bearer token the runtime (or AgentCore's authorizer) would not take. */
export const BEARER_TOKEN_REFUSED = 'BEARER_TOKEN_REFUSED'

/** How the caller signed the call, so a refusal can say what to change. */
export type Signing = { readonly bearer: string } | { readonly bearer?: undefined }

/** Reads a failed call: the runtime's code when it gave one, else the error's own code, else its name. */
export function invokeFailureOf(error: unknown, signing: Signing = {}): InvokeFailure {
  const message = error instanceof Error ? error.message : String(error)
  const status = httpStatusOf(error)
  const runtime = runtimeErrorOf(message)
  const code = codeOf(error)
  const failure = runtime ?? {
    code,
    message: message.startsWith(code) ? message : `${code}: ${message}`,
  }
  const refusedToken =
    runtime?.code === 'UNAUTHENTICATED' || (runtime === undefined && (status === 401 || status === 403))
  if (signing.bearer !== undefined && refusedToken)
    return {
      code: BEARER_TOKEN_REFUSED,
      message: `${BEARER_TOKEN_REFUSED}: the runtime refused the bearer token of ${signing.bearer} (${failure.message})`,
    }
  if (signing.bearer === undefined && runtime?.code === 'UNAUTHENTICATED')
    return {
      code: runtime.code,
      message: `${runtime.message}; this runtime takes bearer tokens: give --bearer-token or AGENTCORE_BEARER_TOKEN`,
    }
  return failure
}

/** `Runtime answered <status>: {"error":{"code","message"}}`, read; undefined for anything else. */
function runtimeErrorOf(message: string): InvokeFailure | undefined {
  const body = /Runtime answered (\d+): (\{[\s\S]*\})$/.exec(message)
  if (!body?.[2]) return undefined
  try {
    const parsed = JSON.parse(body[2]) as { error?: { code?: string; message?: string } }
    const code = parsed.error?.code
    if (code) return { code, message: `${code}: ${parsed.error?.message ?? ''} (HTTP ${body[1]})` }
  } catch {
    // Not the runtime's JSON error.
  }
  return undefined
}

/** The HTTP status of a refusal: the AWS SDK's `$metadata`, or ours (`status`). */
function httpStatusOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined
  const { $metadata, status } = error as { $metadata?: { httpStatusCode?: number }; status?: unknown }
  return $metadata?.httpStatusCode ?? (typeof status === 'number' ? status : undefined)
}

/** A stable code of the error itself (ours, or Node's `ECONNREFUSED`), else its name (the AWS SDK's exceptions). */
function codeOf(error: unknown): string {
  if (!(error instanceof Error)) return 'Error'
  const { code } = error as { code?: unknown }
  return typeof code === 'string' ? code : error.name
}
