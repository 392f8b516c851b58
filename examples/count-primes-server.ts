/**
 * A long-running MCP server with a tool of your own (the README's "Add a tool of your own"):
 *
 *   MCP_BEARER_TOKEN=change-me npx node examples/count-primes-server.ts
 *
 * It listens on port 8001 (MCP_PORT to change it), beside `npm start`'s server on 8000, and keeps
 * its tasks in .longrun/count-primes. `npx node` runs the project's own Node 22.
 */
import { z } from 'zod'
import { defineLongRunningTool, LongRunningMcpServer } from 'longrun/mcp-server'

const isPrime = (n: number) => {
  for (let d = 2; d * d <= n; d += 1) if (n % d === 0) return false
  return true
}

const countPrimes = defineLongRunningTool({
  name: 'count_primes',
  description: 'Counts the primes below a limit.',
  input: z.object({ limit: z.number().int().min(2).max(50_000_000) }),
  onRestart: 'rerun', // after a crash: run again ('fail' ends it as failed)
  async run({ limit }, ctx) {
    let count = 0
    for (let n = 2; n < limit; n += 1) {
      if (isPrime(n)) count += 1
      if (n % 100_000 === 0) {
        ctx.progress(n, limit, `${count} primes so far`)
        ctx.signal.throwIfAborted() // cancel_task / tasks/cancel
        await new Promise((resolve) => setImmediate(resolve)) // let other requests in
      }
    }
    return { limit, count }
  },
})

const token = process.env.MCP_BEARER_TOKEN
if (!token) throw new Error('set MCP_BEARER_TOKEN: callers send it as Authorization: Bearer <token>')
const server = await LongRunningMcpServer.start({
  tools: [countPrimes],
  auth: { kind: 'bearer', token },
  port: Number(process.env.MCP_PORT ?? 8001),
  dataDir: '.longrun/count-primes',
})
console.log(server.url)
process.once('SIGINT', () => void server.close())
process.once('SIGTERM', () => void server.close())
