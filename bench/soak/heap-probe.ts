/**
 * Preloaded into the soaked runtime (`node --expose-gc --import heap-probe.ts src/entrypoint.ts`)
 * by the soak benchmark alone, so the runtime itself carries no debug hook. On a `heap` message over
 * the IPC channel it runs a full garbage collection and answers with the heap still in use, the
 * RSS, and the longest GC pause since the last answer.
 */
import { PerformanceObserver } from 'node:perf_hooks'

/** The answer to a `heap` message. */
export interface HeapSample {
  /** Bytes of heap in use after a full GC. */
  readonly heapUsed: number
  readonly rss: number
  /** The longest GC pause (ms) the process had since the previous sample, this one's GC excluded. */
  readonly maxGcPauseMs: number
}

const gc = globalThis.gc
const send = process.send?.bind(process)
if (gc === undefined || send === undefined)
  throw new Error('heap-probe needs --expose-gc and an IPC channel (spawn with stdio "ipc")')

let maxGcPauseMs = 0
/** When the probe's own collections ran: their pauses are the probe's, not the runtime's. */
const forced: { start: number; end: number }[] = []
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    if (forced.some((range) => entry.startTime >= range.start && entry.startTime <= range.end)) continue
    maxGcPauseMs = Math.max(maxGcPauseMs, entry.duration)
  }
}).observe({ entryTypes: ['gc'] })

process.on('message', (message) => {
  if (message !== 'heap') return
  const pause = maxGcPauseMs
  // Twice: the first pass may leave objects that only its finalizers released.
  const start = performance.now()
  gc()
  gc()
  forced.push({ start, end: performance.now() })
  if (forced.length > 8) forced.shift()
  const { heapUsed, rss } = process.memoryUsage()
  maxGcPauseMs = 0
  send({ heapUsed, rss, maxGcPauseMs: pause } satisfies HeapSample)
})
// The channel must not keep the runtime alive: it stops on SIGTERM as it does in a container.
process.channel?.unref()
