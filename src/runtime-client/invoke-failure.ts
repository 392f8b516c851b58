/**
 * What a failed invocation says, for both ways of signing it. The local gateway hands a runtime's
 * own error answer on as data (its code, status and field in longrun's headers, its message as the
 * error's); without those headers (AgentCore on AWS) a failure is told by its AWS error name and
 * message. A refused bearer token gets one code of its own, naming where the token came from.
 */
import { runtimeErrorFromHeaders } from '../contract/index.ts'
import type { InvokeFailure } from './runtime-invoker.ts'

/** The code of a bearer token the runtime (or AgentCore's authorizer) would not take. */
export const BEARER_TOKEN_REFUSED = 'BEARER_TOKEN_REFUSED'

/** How the caller signed the call, so a refusal can say what to change. */
export type Signing = { readonly bearer: string } | { readonly bearer?: undefined }

/** Reads a failed call: the runtime's code when it gave one, else the error's own code, else its name. */
export function invokeFailureOf(error: unknown, signing: Signing = {}): InvokeFailure {
  const message = error instanceof Error ? error.message : String(error)
  const status = httpStatusOf(error)
  const runtime = runtimeErrorOf(error, message)
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

/** The runtime's own error, from the headers the gateway sent with the refusal; undefined without them. */
function runtimeErrorOf(error: unknown, message: string): InvokeFailure | undefined {
  const headers = headersOf(error)
  const runtime = headers === undefined ? undefined : runtimeErrorFromHeaders(headers, message)
  if (runtime === undefined) return undefined
  return { code: runtime.code, message: `${runtime.code}: ${runtime.message} (HTTP ${runtime.status})` }
}

/** A refusal's response headers: the AWS SDK keeps them on `$response`, ours on `headers`. */
function headersOf(error: unknown): Readonly<Record<string, string | string[] | undefined>> | undefined {
  if (typeof error !== 'object' || error === null) return undefined
  const { $response, headers } = error as {
    $response?: { headers?: Record<string, string | undefined> }
    headers?: Record<string, string | string[] | undefined>
  }
  return $response?.headers ?? headers
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
