/**
 * The MCP server of the continuations benchmark: the server `src/mcp-server-entrypoint.ts` builds
 * from the environment (the example tools, MCP_WAKE_RUNTIME, ...), with one tool more, `wait_until`,
 * whose tasks end at a given time and wake their session: many tasks can end at the same moment.
 * Prints its URL on stdout; logs go to stderr; SIGTERM stops it.
 */
import { setTimeout as delay } from 'node:timers/promises'
import { z } from 'zod'
import { loadEnvironment } from '../../src/config.ts'
import { defineLongRunningTool, LongRunningMcpServer } from '../../src/mcp-server/index.ts'
import { configFromEnv } from '../../src/mcp-server-entrypoint.ts'

const waitUntil = defineLongRunningTool({
  name: 'wait_until',
  description: 'Waits until a time (milliseconds since 1970) and ends: many tasks can end together.',
  input: z.object({ at_ms: z.number().int().positive() }),
  mode: 'async',
  onRestart: 'rerun',
  onEnd: 'wake',
  // It only waits: every task runs at once, whatever the server's pool.
  concurrency: 100_000,
  run: async ({ at_ms }, ctx) => {
    await delay(Math.max(0, at_ms - Date.now()), undefined, { signal: ctx.signal })
    return { waited_until: new Date(at_ms).toISOString() }
  },
})

const config = configFromEnv(loadEnvironment(process.env))
const server = await LongRunningMcpServer.start({ ...config, tools: [...config.tools, waitUntil] })
process.stdout.write(`${server.url}\n`)
process.once('SIGTERM', () => {
  void server.close().then(() => process.exit(0))
})
