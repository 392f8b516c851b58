/**
 * A process of the backend benchmark: an MCP server (`BENCH_ROLE=server`) or a Redis worker
 * (`BENCH_ROLE=worker`) with one tool, `checksum`, that hashes a buffer a number of times (or holds
 * until stopped) and tells the benchmark, over HTTP, when it starts and ends. Answers `report`
 * messages with its RSS.
 */
import { createHash } from 'node:crypto'
import { z } from 'zod'
import { defineLongRunningTool, LongRunningMcpServer, TaskWorker } from '../../src/mcp-server/index.ts'

const reportUrl = process.env.BENCH_REPORT_URL as string
const tell = (event: string, taskId: string) =>
  fetch(reportUrl, { method: 'POST', body: JSON.stringify({ event, taskId }) }).then((response) =>
    response.text(),
  )
const block = Buffer.alloc(64 * 1024, 7)

const checksum = defineLongRunningTool({
  name: 'checksum',
  description: 'Hashes a 64 KiB buffer `rounds` times (or holds until stopped).',
  input: z.object({ rounds: z.number().int().min(1).max(10_000), hold: z.boolean().optional() }),
  mode: 'async',
  onRestart: 'rerun',
  run: async ({ rounds, hold }, ctx) => {
    await tell('start', ctx.taskId)
    let digest = ''
    for (let i = 0; i < rounds; i += 1)
      digest = createHash('sha256').update(block).update(digest).digest('hex')
    if (hold === true)
      await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }))
    await tell('end', ctx.taskId)
    return { digest }
  },
})

/** RSS after a full collection, so it counts what is held, not garbage not yet collected. */
const report = () => {
  ;(globalThis as { gc?: () => void }).gc?.()
  const usage = process.memoryUsage()
  process.send?.({ type: 'report', rssMiB: usage.rss / 2 ** 20, heapMiB: usage.heapUsed / 2 ** 20 })
}

const redis = process.env.BENCH_REDIS_URL
const concurrency = Number(process.env.BENCH_CONCURRENCY)
if (process.env.BENCH_ROLE === 'worker') {
  const worker = await TaskWorker.start({
    tools: [checksum],
    redis: { url: redis as string },
    taskConcurrency: concurrency,
    region: 'us-east-1',
  })
  process.send?.({ type: 'ready', id: worker.backend.workerId })
  process.on('message', (message: string) => {
    if (message === 'report') report()
    if (message === 'stop') void worker.close().then(() => process.exit(0))
  })
} else {
  const server = await LongRunningMcpServer.start({
    port: 0,
    host: '127.0.0.1',
    dataDir: process.env.BENCH_DATA_DIR as string,
    auth: { kind: 'bearer', token: 'bench' },
    tools: [checksum],
    taskConcurrency: concurrency,
    queueLimit: 100_000,
    ...(redis !== undefined && { redis: { url: redis, runWorker: process.env.BENCH_RUN_WORKER === 'true' } }),
  })
  process.send?.({ type: 'ready', url: server.url })
  process.on('message', (message: string) => {
    if (message === 'report') report()
    if (message === 'stop') void server.close().then(() => process.exit(0))
  })
}
