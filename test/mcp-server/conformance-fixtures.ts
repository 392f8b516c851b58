/**
 * The fixture tools the official MCP conformance suite calls (tools-call-simple-text,
 * tools-call-error, tools-call-with-progress, tools-call-with-logging), written as ordinary
 * long-running tools with {@link defineLongRunningTool}. They run through the same task runner,
 * store, progress forwarding and log notifications as every real tool, so the suite checks this
 * server's own progress and logging paths. Only the conformance test's server registers them: the
 * tool list agents see stays free of test names.
 */
import { createHash } from 'node:crypto'
import { z } from 'zod'
import { defineLongRunningTool, type LongRunningTool, ToolError } from '../../src/mcp-server/index.ts'

/** The fixture names, as the suite's scenario descriptions spell them. */
export const CONFORMANCE_FIXTURE_NAMES = [
  'test_simple_text',
  'test_error_handling',
  'test_tool_with_progress',
  'test_tool_with_logging',
] as const

/** The text test_simple_text must answer (scenario tools-call-simple-text). */
export const SIMPLE_TEXT = 'This is a simple text response for testing.'

/** The message test_error_handling fails with (scenario tools-call-error). */
export const ERROR_MESSAGE = 'This tool intentionally returns an error for testing'

/** The three log lines of test_tool_with_logging, in order (scenario tools-call-with-logging). */
export const LOG_LINES = [
  'Tool execution started',
  'Tool processing data',
  'Tool execution completed',
] as const

const NO_ARGUMENTS = z.object({})

/**
 * One step of real work between two notifications: a chain of SHA-256 rounds, then a turn of the
 * event loop, so what the tool reported before it is written to the response stream while the tool
 * is still running (the suite's descriptions ask for notifications spread over the call).
 */
async function workStep(seed: string, signal: AbortSignal): Promise<string> {
  let digest = seed
  for (let round = 0; round < 2_000; round += 1) digest = createHash('sha256').update(digest).digest('hex')
  await new Promise((resolve) => setImmediate(resolve))
  signal.throwIfAborted()
  return digest
}

/** The four fixture tools, each served inline (no `start_` variant). */
export function conformanceFixtureTools(): LongRunningTool[] {
  return [
    defineLongRunningTool({
      name: 'test_simple_text',
      description: 'Conformance fixture: answers a fixed text.',
      input: NO_ARGUMENTS,
      mode: 'inline',
      run: async () => SIMPLE_TEXT,
    }),
    defineLongRunningTool({
      name: 'test_error_handling',
      description: 'Conformance fixture: always fails, so the call answers an isError result.',
      input: NO_ARGUMENTS,
      mode: 'inline',
      run: async () => {
        throw new Error(ERROR_MESSAGE)
      },
    }),
    defineLongRunningTool({
      name: 'test_tool_with_progress',
      description: 'Conformance fixture: reports progress 0, 50 and 100 of 100 while it works.',
      input: NO_ARGUMENTS,
      mode: 'inline',
      run: async (_input, ctx) => {
        ctx.progress(0, 100)
        const half = await workStep(ctx.taskId, ctx.signal)
        ctx.progress(50, 100)
        const digest = await workStep(half, ctx.signal)
        ctx.progress(100, 100)
        return `test_tool_with_progress completed (digest ${digest.slice(0, 16)})`
      },
    }),
    defineLongRunningTool({
      name: 'test_tool_with_logging',
      description: 'Conformance fixture: logs three info messages while it works.',
      input: NO_ARGUMENTS,
      mode: 'inline',
      run: async (_input, ctx) => {
        ctx.log(LOG_LINES[0])
        const half = await workStep(ctx.taskId, ctx.signal)
        ctx.log(LOG_LINES[1])
        const digest = await workStep(half, ctx.signal)
        ctx.log(LOG_LINES[2])
        return `test_tool_with_logging completed (digest ${digest.slice(0, 16)})`
      },
    }),
  ]
}

/**
 * The fixtures of the tasks extension's scenarios (spec 2026-07-28, `tasks-*`): `greet` answers at
 * once (an inline tool is never a task), `slow_compute` and `failing_job` run as durable tasks for a
 * client that declared the extension, `protocol_error_job` fails its task.
 */
export function tasksExtensionFixtureTools(): LongRunningTool[] {
  return [
    defineLongRunningTool({
      name: 'greet',
      description: 'Greets by name, at once.',
      input: z.object({ name: z.string().max(200) }),
      mode: 'inline',
      run: async ({ name }) => `Hello, ${name}!`,
    }),
    defineLongRunningTool({
      name: 'slow_compute',
      description: 'Computes for a number of seconds, then answers with its label.',
      input: z.object({
        seconds: z.number().min(0).max(60).default(1),
        label: z.string().max(200).default('result'),
      }),
      run: async ({ seconds, label }, ctx) => {
        const end = Date.now() + seconds * 1000
        let digest = label
        while (Date.now() < end) digest = await workStep(digest, ctx.signal)
        return `computed ${label}`
      },
    }),
    defineLongRunningTool({
      name: 'failing_job',
      description: 'A job whose tool fails.',
      input: NO_ARGUMENTS,
      // A failure the tool reports itself: a tool error (the task completes with an isError result).
      run: async () => {
        throw new ToolError('JOB_FAILED', 'job failed')
      },
    }),
    defineLongRunningTool({
      name: 'protocol_error_job',
      description: 'A job that fails.',
      input: NO_ARGUMENTS,
      // A crash of the tool: the task fails, with the reason as its error.
      run: async () => {
        throw new Error('internal failure')
      },
    }),
  ]
}
