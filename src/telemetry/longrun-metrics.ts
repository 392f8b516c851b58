/**
 * The project's own metrics: task duration and queue wait, delivery latency and failures, memory
 * calls per invocation. Instruments come from the global meter provider, so they cost nothing
 * until telemetry is started (or another distribution, such as ADOT, registers a provider).
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import type { BedrockAgentCoreClient } from '@aws-sdk/client-bedrock-agentcore'
import { type Attributes, type Meter, metrics } from '@opentelemetry/api'

/** The project's instruments, made once per meter (the no-op one until a provider is registered). */
function instrumentsOf(meter: Meter) {
  return {
    taskDuration: meter.createHistogram('longrun.task.duration', {
      unit: 'ms',
      description: 'Run time of a task, start to end',
    }),
    queueWait: meter.createHistogram('longrun.task.queue_wait', {
      unit: 'ms',
      description: 'Time a task waited in the queue before it first ran',
    }),
    deliveryLatency: meter.createHistogram('longrun.delivery.latency', {
      unit: 'ms',
      description: "Time from a task's end to its result event being written to memory",
    }),
    deliveryFailures: meter.createCounter('longrun.delivery.failures', {
      description: 'Memory writes of task results that did not succeed',
    }),
    memoryCalls: meter.createHistogram('longrun.invocation.memory_calls', {
      description: 'AgentCore Memory API calls made while one invocation ran',
    }),
  }
}

const byMeter = new WeakMap<Meter, ReturnType<typeof instrumentsOf>>()

function instruments(): ReturnType<typeof instrumentsOf> {
  const meter = metrics.getMeter('longrun')
  let made = byMeter.get(meter)
  if (made === undefined) {
    made = instrumentsOf(meter)
    byMeter.set(meter, made)
  }
  return made
}

/** Milliseconds from a task's start (or a re-run's) to its end, by tool and end status. */
export function recordTaskDuration(ms: number, attributes: Attributes): void {
  instruments().taskDuration.record(ms, attributes)
}

/** Milliseconds a task waited for a slot before its first run, by tool. */
export function recordQueueWait(ms: number, attributes: Attributes): void {
  instruments().queueWait.record(ms, attributes)
}

/** Milliseconds from a task's end to its result being in memory. */
export function recordDeliveryLatency(ms: number): void {
  instruments().deliveryLatency.record(ms)
}

/** One delivery attempt that did not land, by outcome (`retry`, `fallback` or `failed`). */
export function countDeliveryFailure(attributes: Attributes): void {
  instruments().deliveryFailures.add(1, attributes)
}

/** The memory calls of the invocation that is running, counted by {@link countMemoryCalls}. */
const invocationCalls = new AsyncLocalStorage<{ calls: number }>()

/**
 * Runs one invocation counting the memory API calls made within it, then records how many
 * (`longrun.invocation.memory_calls`). Writes still buffered when the answer is sent, and flushed
 * after it, are not counted.
 */
export async function withMemoryCallCount<T>(work: () => Promise<T>): Promise<T> {
  const counter = { calls: 0 }
  try {
    return await invocationCalls.run(counter, work)
  } finally {
    instruments().memoryCalls.record(counter.calls)
  }
}

/** Counts each call `client` sends towards the running invocation's memory calls. */
export function countMemoryCalls(client: Pick<BedrockAgentCoreClient, 'middlewareStack'>): void {
  client.middlewareStack.add(
    (next) => async (args) => {
      const counter = invocationCalls.getStore()
      if (counter !== undefined) counter.calls += 1
      return next(args)
    },
    { step: 'initialize', name: 'longrunMemoryCallCount' },
  )
}
