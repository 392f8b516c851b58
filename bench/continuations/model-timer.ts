/**
 * Preloaded into the benchmarked runtime (`node --import model-timer.ts src/entrypoint.ts`) by the
 * continuations benchmark alone, so the runtime itself carries no timing hook. It wraps the demo
 * model's `stream` and writes one log line per model call on stderr: `own_ms`, the time spent
 * inside the model's own code (deciding and producing each event), and `wall_ms`, from the call to
 * the last event consumed (the agent loop handling each event included).
 */
import { performance } from 'node:perf_hooks'
import type { Message, ModelStreamEvent, StreamOptions } from '@strands-agents/sdk'
import { DemoModel } from '../../src/demo-model/index.ts'
import { formatLogLine } from '../../src/shared/logger.ts'

/** The line's message, which the benchmark looks for. */
export const MODEL_CALL_LINE = 'bench model call'

const original = DemoModel.prototype.stream
DemoModel.prototype.stream = function timedStream(
  this: DemoModel,
  messages: Message[],
  options?: StreamOptions,
): AsyncIterable<ModelStreamEvent> {
  const started = performance.now()
  const inner = original.call(this, messages, options)[Symbol.asyncIterator]()
  let own = 0
  let reported = false
  const report = () => {
    if (reported) return
    reported = true
    process.stderr.write(
      `${formatLogLine('info', MODEL_CALL_LINE, {
        own_ms: own.toFixed(3),
        wall_ms: (performance.now() - started).toFixed(3),
      })}\n`,
    )
  }
  const iterator: AsyncIterableIterator<ModelStreamEvent> = {
    [Symbol.asyncIterator]: () => iterator,
    async next() {
      const before = performance.now()
      const result = await inner.next()
      own += performance.now() - before
      if (result.done === true) report()
      return result
    },
    async return(value?: unknown) {
      report()
      return (await inner.return?.(value)) ?? { done: true, value: undefined }
    },
  }
  return iterator
}
