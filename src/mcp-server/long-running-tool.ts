/**
 * The one helper a user needs to add a tool that runs for minutes or hours: declare its input with
 * zod and write `run`; the server serves it inline with progress, as an async task tool, and as a
 * spec-native task, keeps it durable across restarts and delivers its result into memory.
 */
import type { z } from 'zod'
import type { TaskStatus } from './task-record.ts'

/** Who called, from the composite `mcp-session-id` header; all undefined when the caller sent none. */
export interface ToolCaller {
  readonly sessionId: string | undefined
  readonly memoryId: string | undefined
  readonly actorId: string | undefined
}

/** One of the calling owner's own tasks, as a running tool may read it. */
export interface OwnTask {
  readonly taskId: string
  /** The tool it ran (`model_training`, say), whichever mode it was called in. */
  readonly tool: string
  readonly status: TaskStatus
  /** The structured result of an ended task; undefined while it runs or when it returned none. */
  readonly result: Record<string, unknown> | undefined
}

/**
 * A failure a tool reports with a stable `code` (upper snake case) and, when an argument caused it,
 * the `field`: the task fails and its result carries `structuredContent.error: { code, field,
 * message }`, the shape of the server's own tool errors, so a caller branches on the code.
 */
export class ToolError extends Error {
  readonly code: string
  readonly field: string | undefined

  constructor(code: string, message: string, options?: ErrorOptions & { field?: string }) {
    super(message, options)
    this.name = 'ToolError'
    this.code = code
    this.field = options?.field
  }
}

/** What a running tool can use. */
export interface ToolContext {
  /** Reports progress (`done` should grow); stored on the task and sent to inline callers. */
  progress(done: number, total?: number, message?: string): void
  /** A human-readable status line, stored as the task's status message. */
  log(message: string): void
  /** Aborted when the task is cancelled or the server shuts down: stop work promptly. */
  readonly signal: AbortSignal
  readonly taskId: string
  readonly caller: ToolCaller
  /** Which run of the task this is: 1, then 2 and on when it is run again after a restart. */
  readonly runNumber: number
  /**
   * A task of the same owner as this one (the caller's actor, or the token's bucket: see "who owns
   * a task"); undefined for a missing id and for another owner's id alike, so a tool can use an
   * earlier task's result without learning whether a foreign id exists.
   */
  findOwnTask(taskId: string): Promise<OwnTask | undefined>
}

/**
 * How one call of a tool runs: `inline` inside the request (progress and heartbeats stream back),
 * `async` in the background (the call answers a task id the task tools follow), or `spec` as a
 * spec-native task (`tools/call` with `params.task`). Every tool takes `spec` calls.
 */
export type CallMode = 'inline' | 'async' | 'spec'

/**
 * The modes plain `tools/call` offers for a tool: `inline` or `async` under its own name, or
 * `both`: `name` runs inline and `start_<name>` in the background.
 */
export type ToolMode = Exclude<CallMode, 'spec'> | 'both'

/** What the user writes. */
export interface LongRunningToolDefinition<Input extends z.ZodType<Record<string, unknown>>> {
  readonly name: string
  readonly description: string
  /** Arguments schema (a zod object); arguments failing it are refused before anything starts. */
  readonly input: Input
  /**
   * The work. Returns a JSON value (an object becomes structured content) or a string. Throwing ends
   * the task as failed with the error's message.
   */
  run(input: z.output<Input>, ctx: ToolContext): Promise<unknown>
  /** After a crash: run the task again from the start, or end it as failed. Default 'fail'. */
  readonly onRestart?: 'rerun' | 'fail'
  /** Default 'both'. */
  readonly mode?: ToolMode
  /**
   * What a background task of this tool does when it ends, after its result is in the caller's
   * memory: `wake` invokes the caller's agent runtime in that session, so the agent acts on the
   * result before the user comes back (when the server is configured to wake a runtime); `none`
   * (the default) leaves the result to be read on the user's next turn.
   */
  readonly onEnd?: 'wake' | 'none'
  /**
   * How many of this tool's tasks may run at once per process, in a pool of its own. Without it the
   * tool shares the server's pool (MCP_TASK_CONCURRENCY, one per core by default): right for work
   * that keeps a core busy. A tool that mostly waits on something else (a remote training job, a
   * batch service) may declare a high limit.
   */
  readonly concurrency?: number
}

/** A tool as the server holds it, its input type erased. */
export interface LongRunningTool {
  readonly name: string
  readonly description: string
  readonly input: z.ZodType<Record<string, unknown>>
  readonly onRestart: 'rerun' | 'fail'
  readonly mode: ToolMode
  readonly onEnd: 'wake' | 'none'
  /** Its own concurrency limit per process; undefined: the server's shared pool. */
  readonly concurrency: number | undefined
  run(input: Record<string, unknown>, ctx: ToolContext): Promise<unknown>
}

const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/

/** Declares a long-running tool; see {@link LongRunningToolDefinition}. */
export function defineLongRunningTool<Input extends z.ZodType<Record<string, unknown>>>(
  definition: LongRunningToolDefinition<Input>,
): LongRunningTool {
  if (!TOOL_NAME.test(definition.name)) {
    throw new TypeError(`tool name must match ${TOOL_NAME.source} (got ${JSON.stringify(definition.name)})`)
  }
  const concurrency = definition.concurrency
  if (concurrency !== undefined && !(Number.isInteger(concurrency) && concurrency >= 1)) {
    throw new TypeError(
      `concurrency of tool ${definition.name} must be a whole number of at least 1 (got ${concurrency})`,
    )
  }
  return {
    name: definition.name,
    description: definition.description,
    input: definition.input,
    onRestart: definition.onRestart ?? 'fail',
    mode: definition.mode ?? 'both',
    onEnd: definition.onEnd ?? 'none',
    concurrency,
    // The server parses arguments with `input` before calling, so the value has the output type.
    run: (input, ctx) => definition.run(input as z.output<Input>, ctx),
  }
}
