/**
 * One InvokeAgentRuntime call as `longrun invoke`, `longrun chat` and the console make it, whatever
 * signs it: SigV4 through the AWS SDK (IAM callers), or a bearer token over HTTPS (a runtime
 * behind a JWT authorizer). Both open the same answer, read the same way.
 */

/** The answer to one question a paused turn asked (its `interrupt` event). */
export interface InterruptResponse {
  readonly interruptId: string
  readonly response: unknown
}

/** What an invocation sends: the runtime, the session, and the payload the runtime reads. */
export interface RuntimeInvocation {
  readonly runtimeArn: string
  readonly sessionId: string
  /** What the user says; unused when `interruptResponses` answers a paused turn instead. */
  readonly prompt?: string | undefined
  /** Answers to the questions the session's paused turn asked (its `interrupt` events). */
  readonly interruptResponses?: readonly InterruptResponse[] | undefined
  /**
   * A wake instead of a prompt (sent by the MCP server): the task whose result is in the session's
   * memory, and the depth of the continuation it would run.
   */
  readonly wake?: { readonly taskId: string; readonly depth: number } | undefined
  readonly actorId?: string | undefined
  readonly memoryId?: string | undefined
  /** Ask for the JSON answer instead of the event stream. */
  readonly json?: boolean
}

/**
 * The payload the runtime reads (`prompt`, `interrupt_responses` or `wake`, and `actor_id` /
 * `memory_id` when given).
 */
export function invocationPayload(invocation: RuntimeInvocation): string {
  const answers = invocation.interruptResponses
  const wake = invocation.wake
  return JSON.stringify({
    ...(wake !== undefined
      ? { wake: { task_id: wake.taskId, depth: wake.depth } }
      : answers === undefined
        ? { prompt: invocation.prompt }
        : {
            interrupt_responses: answers.map((answer) => ({
              interrupt_id: answer.interruptId,
              response: answer.response,
            })),
          }),
    ...(invocation.actorId !== undefined && { actor_id: invocation.actorId }),
    ...(invocation.memoryId !== undefined && { memory_id: invocation.memoryId }),
  })
}

/** The answer of an accepted invocation: its content type and its body as it arrives. */
export interface OpenedInvocation {
  readonly contentType: string
  readonly body: AsyncIterable<Uint8Array>
}

/** A failed invocation: a stable code (the runtime's, or the service's error name) and a line for people. */
export interface InvokeFailure {
  readonly code: string
  readonly message: string
}

/** Sends invocations to one target. */
export interface RuntimeInvoker {
  /** Sends the invocation; resolves once the runtime's answer starts, rejects on a refusal. */
  open(invocation: RuntimeInvocation, signal?: AbortSignal): Promise<OpenedInvocation>
  /** What a failure of `open` (or of reading its body) means, in the runtime's own words where it gave them. */
  failureOf(error: unknown): InvokeFailure
}

/** Reads an answer whole (the JSON answer). */
export async function readAnswer(body: AsyncIterable<Uint8Array>): Promise<string> {
  const chunks: Uint8Array[] = []
  for await (const chunk of body) chunks.push(chunk)
  return Buffer.concat(chunks).toString('utf8')
}
