import assert from 'node:assert/strict'
import { after, describe, test } from 'node:test'
import { continuationPrompt } from '../../src/contract/index.ts'
import { stopServiceProcess } from '../helpers/child-process.ts'
import {
  awaitResult,
  type ContinuationStack,
  continuationEvents,
  finalAnswers,
  type InvokeResult,
  resultEvents,
  STORY_PROMPT,
  startQuietTask,
  toolCalls,
  userTexts,
  useContinuationStack,
} from '../helpers/continuation-stack.ts'
import { type HoldingProxy, startHoldingProxy } from '../helpers/holding-proxy.ts'
import { waitFor } from '../helpers/local-agentcore.ts'
import { type InvokeOutcome, responseOf, sessionIdFor } from '../helpers/runtime-stack.ts'

/** The Memory data-plane operations of the local service: what "memory throttled" throttles. */
const MEMORY_OPERATIONS = [
  'CreateEvent',
  'GetEvent',
  'DeleteEvent',
  'ListEvents',
  'ListSessions',
  'ListActors',
  'RetrieveMemoryRecords',
  'ListMemoryRecords',
  'BatchCreateMemoryRecords',
  'GetMemoryRecord',
  'DeleteMemoryRecord',
]

/** The outcome of an answered wake: the continuation's. */
const outcomeOf = (result: InvokeResult) => result.answer?.continuation?.outcome ?? result.refusal?.code

describe('continuations under faults: a crash mid-continuation, and memory that throttles', () => {
  const stack: ContinuationStack = useContinuationStack()
  let proxy: HoldingProxy | undefined
  after(async () => {
    await proxy?.close()
  })

  test('a runtime SIGKILLed while its continuation’s tool call is in flight: the retried wake resumes it in a new process, answered once', async () => {
    // The first process reaches the MCP server through a proxy that holds the continuation's call.
    proxy = await startHoldingProxy(
      stack.mcp.url,
      (body) => body.includes('"tools/call"') && body.includes('"start_evaluate_model"'),
    )
    const limits = { RUNTIME_WAKES_PER_HOUR: '1' }
    const first = await stack.startRuntimeProcess({ ...limits, MCP_SERVER_URL: proxy.url })
    const sessionId = sessionIdFor('killed-continuation')
    const started = await stack.invoke(STORY_PROMPT, { sessionId })
    const trainingId = started.answer?.tasks[0]?.task_id as string
    assert.ok(trainingId)
    await proxy.held
    // Mid-continuation: its prompt and its tool call are stored (marked), its answer is not.
    const cut = continuationEvents(await stack.events(sessionId), trainingId)
    assert.deepEqual(userTexts(cut), [continuationPrompt(trainingId)])
    assert.deepEqual(
      toolCalls(cut).map((call) => call.name),
      ['start_evaluate_model'],
    )
    assert.deepEqual(finalAnswers(cut), [])
    assert.equal(await stopServiceProcess(first, 'SIGKILL'), null)
    proxy.drop()
    // The wake failed with the process: the MCP server keeps it owed and tries again.
    await waitFor(
      () => {
        const job = stack.job(trainingId, 'wake')
        return job !== undefined && job.state === 'pending' && job.attempts >= 1
      },
      30_000,
      'the failed wake to be retried',
    )
    assert.deepEqual(stack.wakeOutcomes(trainingId), [])

    await stack.startRuntimeProcess(limits)
    assert.deepEqual(await stack.awaitWake(trainingId), ['resumed'])
    const events = await stack.events(sessionId)
    const continuation = continuationEvents(events, trainingId)
    assert.equal(finalAnswers(continuation).length, 1, 'one final answer is stored')
    assert.deepEqual(new Set(continuation.map((event) => event.continuation)), new Set(['1']))
    assert.deepEqual(userTexts(continuation), [continuationPrompt(trainingId)], 'not started over')
    assert.equal(toolCalls(continuation).length, 1, 'the call cut off was not made twice')
    assert.equal(resultEvents(events, trainingId).length, 1)
    assert.deepEqual(stack.tasksOf('evaluate_model', sessionId), [], 'the held call never reached the server')
    assert.deepEqual(await stack.converseProblems(sessionId), [])

    // Once more: the continuation ran to its end.
    const again = await stack.wake(sessionId, trainingId, 1)
    assert.equal(outcomeOf(again), 'ran_before')
    assert.equal(again.answer?.response, finalAnswers(continuation)[0])
    assert.equal((await stack.events(sessionId)).length, events.length)
    // The resumed continuation was counted in the session's budget (one an hour): the next is stopped.
    const quiet = await startQuietTask(stack, sessionId)
    await awaitResult(stack, sessionId, quiet)
    const next = await stack.wake(sessionId, quiet, 1)
    assert.deepEqual(next.answer?.continuation, {
      task_id: quiet,
      depth: 1,
      outcome: 'stopped',
      reason: 'budget',
    })
    assert.deepEqual(await stack.converseProblems(sessionId), [])
  })

  test('memory throttled at 30% through the whole story: every result once, every continuation once', async () => {
    const failures: unknown[] = []
    await stack.startRuntime(
      {},
      {
        log: (_level, _message, fields) => {
          if (fields?.code !== undefined) failures.push(fields.code)
        },
      },
    )
    const sessionId = sessionIdFor('throttled-story')
    stack.env.service.faults.resetCounts()
    // 30% at random, and the first write and read for certain (a run of few calls may draw none).
    stack.env.service.faults.set(
      Object.fromEntries(
        MEMORY_OPERATIONS.map((operation) => [
          operation,
          {
            throttleRate: 0.3,
            ...(['CreateEvent', 'ListEvents'].includes(operation) && { throttleNext: 1 }),
          },
        ]),
      ),
    )
    let back: InvokeOutcome
    let trainingId: string
    let evaluationId: string
    try {
      const started = await userTurn(stack, STORY_PROMPT, sessionId)
      trainingId = started.answer?.tasks[0]?.task_id as string
      assert.ok(trainingId, 'the training started')
      // Memory is read and written outside the test's view: it waits on the MCP server's log and store.
      const first = await stack.awaitWake(trainingId, 1, 120_000)
      // The training's continuation started the evaluation before it answered.
      const evaluations = stack.tasksOf('evaluate_model', sessionId)
      assert.equal(evaluations.length, 1)
      evaluationId = (evaluations[0] as { task_id: string }).task_id
      const second = await stack.awaitWake(evaluationId, 1, 120_000)
      for (const outcome of [...first, ...second]) assert.ok(['ran', 'resumed'].includes(outcome), outcome)
      back = await userTurn(stack, 'what happened?', sessionId)
      const counts = stack.env.service.faults.counts()
      assert.ok((counts.CreateEvent?.throttled ?? 0) > 0, 'writes were throttled')
      assert.ok((counts.ListEvents?.throttled ?? 0) > 0, 'reads were throttled')
    } finally {
      stack.env.service.faults.set({})
    }
    // Settled: each wake was answered once, and nothing is left owed.
    assert.equal(stack.wakeOutcomes(trainingId).length, 1)
    assert.equal(stack.wakeOutcomes(evaluationId).length, 1)
    assert.equal(stack.job(trainingId, 'wake')?.state, 'delivered')
    assert.equal(stack.job(evaluationId, 'wake')?.state, 'delivered')
    assert.equal(stack.tasksOf('model_training', sessionId).length, 1)
    assert.equal(stack.tasksOf('evaluate_model', sessionId).length, 1)
    // A continuation's last write that failed is retried in the background: its answer lands later.
    const events = await waitFor(
      async () => {
        const stored = await stack.events(sessionId)
        const answered = [trainingId, evaluationId].every(
          (taskId) => finalAnswers(continuationEvents(stored, taskId)).length > 0,
        )
        return answered ? stored : undefined
      },
      30_000,
      'both continuations to be stored with their answers',
    )
    for (const taskId of [trainingId, evaluationId]) {
      assert.equal(resultEvents(events, taskId).length, 1, `the result of ${taskId} is stored once`)
      const continuation = continuationEvents(events, taskId)
      assert.equal(finalAnswers(continuation).length, 1, `the continuation of ${taskId} answered once`)
      assert.equal(
        userTexts(continuation).filter((text) => text === continuationPrompt(taskId)).length,
        1,
        `the continuation of ${taskId} began once`,
      )
    }
    assert.deepEqual(back.answer?.tasks, [])
    for (const taskId of [trainingId, evaluationId])
      assert.ok(responseOf(back).includes(taskId), `"what happened?" names ${taskId}`)
    assert.deepEqual(await stack.converseProblems(sessionId), [])
    // What failed at the runtime failed as memory being out of reach, never as an internal error.
    assert.ok(
      failures.every((code) => code === 'MEMORY_UNAVAILABLE'),
      `failures: ${failures.join(', ')}`,
    )
  })
})

/**
 * A user's turn, sent again when memory could not be reached before anything was done (what a user
 * does with a MEMORY_UNAVAILABLE): the AgentCore calls of one turn each retry, but not forever.
 */
async function userTurn(stack: ContinuationStack, prompt: string, sessionId: string): Promise<InvokeOutcome> {
  for (let attempt = 1; ; attempt += 1) {
    const outcome = await stack.invoke(prompt, { sessionId })
    const failed = outcome.events.find((event) => event.type === 'error')
    const acted = outcome.events.some((event) => event.type === 'tool_start')
    if (failed?.type !== 'error' || failed.code !== 'MEMORY_UNAVAILABLE' || acted || attempt === 3)
      return outcome
  }
}
