/**
 * The events an invocation streams when the caller accepts `text/event-stream`: one JSON object per
 * SSE `data:` line, told apart by `type`. The types and the zod schema are exported so every client
 * (the CLI, tests, a user's own code) parses the stream the same way instead of guessing.
 */
import { createParser } from 'eventsource-parser'
import { z } from 'zod'

/** A task a tool started in the background during the invocation. */
export const StartedTaskSchema = z.object({ task_id: z.string(), tool: z.string() })

/**
 * A question a paused turn asks (a Strands interrupt, e.g. an approval): answer it with
 * `{"interrupt_responses": [{"interrupt_id", "response"}]}` as the session's next payload.
 */
export const InterruptSchema = z.object({
  interrupt_id: z.string(),
  /** What kind of question (`approval` for a tool that asks before it runs). */
  name: z.string(),
  /** What is asked, as the tool or hook gave it (an approval: `{ question, tool, input }`). */
  reason: z.unknown().optional(),
})

/**
 * What a wake came to: `ran` (a continuation turn ran), `resumed` (one a crash cut short was carried
 * on), `ran_before` (it had run: the wake was a duplicate), `paused` (its turn waits on the user's
 * answer), or `stopped` (a limit stopped the agent acting on its own; the user is told so).
 */
export const ContinuationSchema = z.object({
  task_id: z.string(),
  depth: z.number(),
  outcome: z.enum(['ran', 'resumed', 'ran_before', 'paused', 'stopped']),
  /** Why it stopped: the chain's `depth` limit, or the session's hourly `budget`. */
  reason: z.enum(['depth', 'budget']).optional(),
})

/** The answer of an invocation: the JSON body, and the `done` event's fields. */
export const InvocationAnswerSchema = z.object({
  /** The agent's reply. */
  response: z.string(),
  /** The runtime session id: send it again to continue the conversation. */
  session_id: z.string(),
  /** Background tasks started during this invocation. */
  tasks: z.array(StartedTaskSchema),
  /** Present when the turn paused: the questions it waits on (the session takes no prompt until they are answered). */
  interrupts: z.array(InterruptSchema).optional(),
  /** Present when the invocation was a wake: what became of the continuation. */
  continuation: ContinuationSchema.optional(),
})

/** A Strands interrupt as the runtime reports it. */
export function runtimeInterruptOf(interrupt: {
  readonly id: string
  readonly name: string
  readonly reason?: unknown
}): RuntimeInterrupt {
  return {
    interrupt_id: interrupt.id,
    name: interrupt.name,
    ...(interrupt.reason !== undefined && { reason: interrupt.reason }),
  }
}

/** One streamed event. */
export const RuntimeStreamEventSchema = z.discriminatedUnion('type', [
  /** A piece of the agent's reply, as the model produces it. */
  z.object({ type: z.literal('text'), text: z.string() }),
  /** A tool call begins. */
  z.object({ type: z.literal('tool_start'), tool: z.string(), tool_use_id: z.string(), input: z.unknown() }),
  /** A running tool reported progress (from the MCP server's notifications; heartbeats included). */
  z.object({
    type: z.literal('tool_progress'),
    tool: z.string(),
    tool_use_id: z.string().optional(),
    progress: z.number(),
    total: z.number().optional(),
    message: z.string().optional(),
  }),
  /** A tool call ended. */
  z.object({
    type: z.literal('tool_end'),
    tool: z.string(),
    tool_use_id: z.string(),
    status: z.enum(['success', 'error']),
  }),
  /** A tool started a background task; its result arrives later in the session's memory. */
  z.object({ type: z.literal('task_started'), task_id: z.string(), tool: z.string() }),
  /** The turn paused to ask the caller (`done` follows, listing every question it waits on). */
  InterruptSchema.extend({ type: z.literal('interrupt') }),
  /** The invocation ended: the same body a JSON request gets. */
  InvocationAnswerSchema.extend({ type: z.literal('done') }),
  /**
   * The invocation failed; nothing else follows. `error` repeats the message under the name the
   * official AgentCore CLI (`agentcore dev`) and the AgentCore SDK apps read, so they show it too.
   */
  z.object({
    type: z.literal('error'),
    code: z.string(),
    message: z.string(),
    error: z.string().optional(),
  }),
])

export type StartedTask = z.infer<typeof StartedTaskSchema>
export type RuntimeInterrupt = z.infer<typeof InterruptSchema>
export type InvocationAnswer = z.infer<typeof InvocationAnswerSchema>
export type ContinuationOutcome = z.infer<typeof ContinuationSchema>
export type RuntimeStreamEvent = z.infer<typeof RuntimeStreamEventSchema>
export type RuntimeStreamEventType = RuntimeStreamEvent['type']

/** One event as an SSE frame. */
export function formatSseEvent(event: RuntimeStreamEvent): string {
  return `data: ${JSON.stringify(event)}\n\n`
}

/** A frame that is not a valid event: the stream is not one of ours, or it was cut. */
export class StreamEventError extends Error {
  readonly code = 'INVALID_STREAM_EVENT'
  constructor(message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = 'StreamEventError'
  }
}

/**
 * Parses an invocation's SSE stream (bytes or text, chunked anyhow) into typed events as they
 * arrive. A frame that fails the schema throws {@link StreamEventError}.
 */
export async function* parseRuntimeStream(
  chunks: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>,
): AsyncGenerator<RuntimeStreamEvent> {
  const ready: RuntimeStreamEvent[] = []
  let failure: StreamEventError | undefined
  const parser = createParser({
    onEvent(message) {
      if (failure) return
      let value: unknown
      try {
        value = JSON.parse(message.data)
      } catch (error) {
        failure = new StreamEventError(`not JSON: ${message.data.slice(0, 200)}`, { cause: error })
        return
      }
      const parsed = RuntimeStreamEventSchema.safeParse(value)
      if (parsed.success) ready.push(parsed.data)
      else failure = new StreamEventError(`not a runtime event: ${message.data.slice(0, 200)}`)
    },
  })
  const decoder = new TextDecoder()
  for await (const chunk of chunks) {
    parser.feed(typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true }))
    while (ready.length > 0) yield ready.shift() as RuntimeStreamEvent
    if (failure) throw failure
  }
  parser.feed(decoder.decode())
  while (ready.length > 0) yield ready.shift() as RuntimeStreamEvent
  if (failure) throw failure
}
