/**
 * The burst benchmark's server: the long-running MCP server with the training tool, in a process of
 * its own, so its RSS and event-loop delay are its own. Answers `report` (and `reset`) messages
 * from the parent with what it measured.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { LongRunningMcpServer, modelTrainingTool } from '../../src/mcp-server/index.ts'

const dataDir = process.env.BURST_DATA_DIR as string
const histogram = monitorEventLoopDelay({ resolution: 10 })
histogram.enable()
const server = await LongRunningMcpServer.start({
  port: 0,
  host: '127.0.0.1',
  dataDir,
  auth: { kind: 'bearer', token: 'bench' },
  // As in `longrun dev`: an epoch a second, so a burst's tasks are all still there when measured.
  tools: [modelTrainingTool({ dataDir, epochDelayMs: 1000 })],
  taskConcurrency: Number(process.env.BURST_CONCURRENCY),
  queueLimit: 100_000,
})
process.send?.({ type: 'ready', url: server.url })
process.on('message', (message: string) => {
  if (message === 'reset') histogram.reset()
  if (message === 'report') {
    // Live heap after a full collection: what the tasks hold, apart from garbage not yet collected.
    ;(globalThis as { gc?: () => void }).gc?.()
    const usage = process.memoryUsage()
    process.send?.({
      type: 'report',
      rssMiB: usage.rss / 2 ** 20,
      heapMiB: usage.heapUsed / 2 ** 20,
      delayP99Ms: Math.max(0, histogram.percentile(99) / 1e6 - 10),
      delayMaxMs: Math.max(0, histogram.max / 1e6 - 10),
      running: server.runner.running,
      waiting: server.backend.waiting,
    })
  }
  if (message === 'stop') void server.close().then(() => process.exit(0))
})
