import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import type { Message, StreamOptions } from '@strands-agents/sdk'
import {
  continuationPrompt,
  continuationTaskOf,
  stoppedContinuationPrompt,
} from '../../src/contract/index.ts'
import { DemoModel } from '../../src/demo-model/index.ts'
import {
  AgentRuntimeServer,
  createAgentInvocationHandler,
  type InvocationHandler,
  memorySessionIdFor,
  PendingWrites,
} from '../../src/runtime/index.ts'
import {
  awaitResult,
  type ContinuationStack,
  continuationEvents,
  deliveredResult,
  finalAnswers,
  type MarkedEvent,
  resultEvents,
  STORY_PROMPT,
  startQuietTask,
  toolCalls,
  userTexts,
  useContinuationStack,
} from '../helpers/continuation-stack.ts'
import { waitFor } from '../helpers/local-agentcore.ts'
import { TEST_TOKEN } from '../helpers/mcp-server.ts'
import { responseOf, sessionIdFor } from '../helpers/runtime-stack.ts'

/** Tells the story in a new session up to the training's task id. */
async function startStory(stack: ContinuationStack, sessionId: string): Promise<string> {
  const started = await stack.invoke(STORY_PROMPT, { sessionId })
  const [training] = started.answer?.tasks ?? []
  assert.equal(training?.tool, 'start_model_training')
  return training.task_id
}

/** The one evaluation a session's continuation started. */
function evaluationOf(stack: ContinuationStack, sessionId: string): string {
  const evaluations = stack.tasksOf('evaluate_model', sessionId)
  assert.equal(evaluations.length, 1, 'one evaluation was started')
  return (evaluations[0] as { task_id: string }).task_id
}

/** The newest time among events (0 for none). */
const latest = (events: readonly MarkedEvent[]) => Math.max(0, ...events.map((event) => event.time))
const earliest = (events: readonly MarkedEvent[]) => Math.min(...events.map((event) => event.time))

describe('continuations: a finished task wakes its session, and the agent acts on the result', () => {
  const stack = useContinuationStack()
  /** The story's session and tasks, for the tests that follow it. */
  const story = { sessionId: sessionIdFor('story'), trainingId: '', evaluationId: '' }

  test('the story: the training wakes the agent, which evaluates; the evaluation wakes it, which sums up; "what happened?" answers both', async () => {
    await stack.startRuntime()
    const { sessionId } = story
    const trainingId = await startStory(stack, sessionId)
    assert.deepEqual(await stack.awaitWake(trainingId), ['ran'])
    const evaluationId = evaluationOf(stack, sessionId)
    assert.deepEqual(await stack.awaitWake(evaluationId), ['ran'])
    Object.assign(story, { trainingId, evaluationId })

    const events = await stack.events(sessionId)
    // Each result is in the session once, and each continuation's events carry its task and depth.
    assert.equal(resultEvents(events, trainingId).length, 1)
    assert.equal(resultEvents(events, evaluationId).length, 1)
    const first = continuationEvents(events, trainingId)
    const second = continuationEvents(events, evaluationId)
    assert.deepEqual(new Set(first.map((event) => event.continuation)), new Set(['1']))
    assert.deepEqual(new Set(second.map((event) => event.continuation)), new Set(['2']))
    // Each opens with the runtime's own prompt naming the task, and ends with one answer.
    assert.deepEqual(userTexts(first)[0], continuationPrompt(trainingId))
    assert.equal(continuationTaskOf(userTexts(second)[0] ?? ''), evaluationId)
    assert.deepEqual(toolCalls(first), [
      { name: 'start_evaluate_model', input: { training_task_id: trainingId } },
    ])
    assert.deepEqual(toolCalls(second), [])
    assert.equal(finalAnswers(first).length, 1)
    assert.equal(finalAnswers(second).length, 1)
    // In order: the training's result, its continuation, the evaluation's result, its continuation.
    const order = [resultEvents(events, trainingId), first, resultEvents(events, evaluationId), second]
    for (let index = 1; index < order.length; index += 1)
      assert.ok(
        latest(order[index - 1] as MarkedEvent[]) < earliest(order[index] as MarkedEvent[]),
        `part ${index} of the story comes after part ${index - 1}`,
      )
    // Every event marked with a task is one of these: nothing else was written in their name.
    assert.equal(
      events.filter((event) => event.taskId !== undefined).length,
      order.reduce((sum, part) => sum + part.length, 0),
    )
    // The summary gives both results' numbers as the tools returned them.
    const scores = deliveredResult(events, trainingId)
    const metrics = deliveredResult(events, evaluationId)
    assert.equal(metrics.training_task_id, trainingId)
    const summary = finalAnswers(second)[0] ?? ''
    for (const value of [trainingId, evaluationId, scores.test_accuracy, metrics.accuracy, metrics.f1])
      assert.ok(summary.includes(String(value)), `the summary names ${String(value)}`)

    // The user comes back: the answer is in the session; no task is started for it.
    const before = events.length
    const back = await stack.invoke('what happened?', { sessionId })
    assert.deepEqual(back.answer?.tasks, [])
    assert.ok(!back.events.some((event) => event.type === 'tool_start'))
    for (const value of [trainingId, evaluationId, scores.test_accuracy, metrics.accuracy])
      assert.ok(responseOf(back).includes(String(value)), `the answer names ${String(value)}`)
    const afterwards = await stack.events(sessionId)
    assert.ok(
      afterwards.slice(before).every((event) => event.taskId === undefined),
      "the user's turn is not marked as a continuation",
    )
    assert.equal(stack.tasksOf('model_training', sessionId).length, 1)
    assert.equal(stack.tasksOf('evaluate_model', sessionId).length, 1)
    assert.deepEqual(await stack.converseProblems(sessionId), [])
  })

  test('a duplicate wake answers ran_before with the stored answer, and writes nothing', async () => {
    const { sessionId, trainingId, evaluationId } = story
    assert.ok(trainingId !== '' && evaluationId !== '', 'the story ran first')
    const events = await stack.events(sessionId)
    for (const [taskId, depth] of [
      [trainingId, 1],
      [evaluationId, 2],
      // The depth a wake names does not matter once the continuation ran.
      [evaluationId, 1],
    ] as const) {
      const again = await stack.wake(sessionId, taskId, depth)
      assert.deepEqual(again.answer?.continuation, { task_id: taskId, depth, outcome: 'ran_before' })
      assert.equal(again.answer?.response, finalAnswers(continuationEvents(events, taskId))[0])
      assert.deepEqual(again.answer?.tasks, [])
    }
    assert.equal((await stack.events(sessionId)).length, events.length)
  })

  test('a wake for an unknown task, another actor’s, another session’s or one not in memory is WAKE_TASK_NOT_FOUND, writing nothing', async () => {
    const { sessionId, trainingId } = story
    assert.ok(trainingId !== '', 'the story ran first')
    const running = sessionIdFor('still-running')
    const slowId = (
      await stack.invoke('Train a model called slowpoke for 5000 epochs', { sessionId: running })
    ).answer?.tasks[0]?.task_id as string
    assert.ok(slowId)
    const elsewhere = sessionIdFor('elsewhere')
    const counts = async () => [
      (await stack.events(sessionId)).length,
      (await stack.events(sessionId, 'someone-else')).length,
      (await stack.events(running)).length,
      (await stack.events(elsewhere)).length,
    ]
    const before = await counts()
    for (const [target, taskId, actorId] of [
      [sessionId, 'NoSuchTask0000000000000', 'default'],
      [sessionId, trainingId, 'someone-else'],
      [elsewhere, trainingId, 'default'],
      [running, slowId, 'default'],
    ] as const) {
      const refused = await stack.wake(target, taskId, 1, { actorId })
      assert.deepEqual(
        refused.refusal && [refused.refusal.code, refused.refusal.status, refused.refusal.field],
        ['WAKE_TASK_NOT_FOUND', 404, 'wake.task_id'],
        `${target} ${taskId} ${actorId}`,
      )
    }
    assert.deepEqual(await counts(), before)
    // The running training is cancelled, which wakes nobody.
    await stack.invoke('cancel it', { sessionId: running })
    await waitFor(
      () => stack.tasksOf('model_training', running)[0]?.status === 'cancelled',
      30_000,
      'the training to be cancelled',
    )
    assert.equal(stack.job(slowId, 'wake'), undefined)
  })

  test('invalid wake payloads are INVALID_REQUEST naming the field, and reach no memory', async () => {
    const { sessionId, trainingId } = story
    const fresh = sessionIdFor('invalid-wakes')
    const before = (await stack.events(sessionId)).length
    const wake = { task_id: trainingId, depth: 1 }
    const who = { actor_id: 'default', memory_id: stack.memoryId }
    for (const [payload, field] of [
      [{ wake: { ...wake, prompt: 'do this instead' }, ...who }, 'wake.prompt'],
      [{ wake, prompt: 'and also this', ...who }, 'wake'],
      [{ wake, interrupt_responses: [{ interrupt_id: 'x', response: 'yes' }], ...who }, 'wake'],
      [{ wake, instructions: 'x', ...who }, 'instructions'],
      [{ wake: { ...wake, task_id: 'not a task id!' }, ...who }, 'wake.task_id'],
      [{ wake: { depth: 1 }, ...who }, 'wake.task_id'],
      [{ wake: { ...wake, depth: 0 }, ...who }, 'wake.depth'],
      [{ wake: { ...wake, depth: 1.5 }, ...who }, 'wake.depth'],
      [{ wake: { ...wake, depth: '1' }, ...who }, 'wake.depth'],
      [{ wake: { task_id: trainingId }, ...who }, 'wake.depth'],
      [{ wake: 'wake up', ...who }, 'wake'],
      [{ wake: [trainingId, 1], ...who }, 'wake'],
      [{ wake, actor_id: 'not an actor id!', memory_id: stack.memoryId }, 'actor_id'],
    ] as const) {
      for (const target of [sessionId, fresh]) {
        const refused = await stack.send(payload, target)
        assert.deepEqual(
          refused.refusal && [refused.refusal.code, refused.refusal.status, refused.refusal.field],
          ['INVALID_REQUEST', 400, field],
          JSON.stringify(payload),
        )
      }
    }
    assert.equal((await stack.events(sessionId)).length, before)
    assert.equal((await stack.events(fresh)).length, 0)
  })

  test('a runtime session id Memory cannot take (mapped to a Memory session id) is woken by its own id', async () => {
    await stack.startRuntime()
    const sessionId = 'user@example.com/chat:2026-12-07T21:11:24Z#1'
    assert.notEqual(memorySessionIdFor(sessionId), sessionId)
    const trainingId = await startStory(stack, sessionId)
    assert.deepEqual(await stack.awaitWake(trainingId), ['ran'])
    assert.deepEqual(await stack.awaitWake(evaluationOf(stack, sessionId)), ['ran'])
    const events = await stack.events(sessionId)
    assert.equal(finalAnswers(continuationEvents(events, trainingId)).length, 1)
    assert.deepEqual(await stack.converseProblems(sessionId), [])
  })

  test('depth limit 1: the training’s continuation starts the evaluation, whose wake is stopped; the user is told, the result stays', async () => {
    await stack.startRuntime({ RUNTIME_CONTINUATION_DEPTH: '1' })
    const sessionId = sessionIdFor('depth-one')
    const trainingId = await startStory(stack, sessionId)
    assert.deepEqual(await stack.awaitWake(trainingId), ['ran'])
    const evaluationId = evaluationOf(stack, sessionId)
    assert.deepEqual(await stack.awaitWake(evaluationId), ['stopped'])
    await assertStopped(stack, sessionId, evaluationId, stoppedContinuationPrompt(evaluationId, 'depth', 1))
    // The stopped note ran to its end: the wake again is a duplicate.
    const again = await stack.wake(sessionId, evaluationId, 2)
    assert.equal(again.answer?.continuation?.outcome, 'ran_before')
  })

  test('a budget of one continuation an hour: the second continuation of the session is stopped', async () => {
    await stack.startRuntime({ RUNTIME_WAKES_PER_HOUR: '1' })
    const sessionId = sessionIdFor('budget-one')
    const trainingId = await startStory(stack, sessionId)
    assert.deepEqual(await stack.awaitWake(trainingId), ['ran'])
    const evaluationId = evaluationOf(stack, sessionId)
    assert.deepEqual(await stack.awaitWake(evaluationId), ['stopped'])
    await assertStopped(stack, sessionId, evaluationId, stoppedContinuationPrompt(evaluationId, 'budget', 1))
    // Another session has a budget of its own.
    const other = sessionIdFor('budget-other')
    const otherTraining = await startStory(stack, other)
    assert.deepEqual(await stack.awaitWake(otherTraining), ['ran'])
    await stack.awaitWake(evaluationOf(stack, other))
  })

  describe('a continuation that asks first (AGENT_APPROVAL_TOOLS=start_evaluate_model)', () => {
    const APPROVALS = { AGENT_APPROVAL_TOOLS: 'start_evaluate_model' }

    /** Tells the story until the training's continuation pauses; returns its task and question. */
    const pausedStory = async (name: string) => {
      await stack.startRuntime(APPROVALS)
      const sessionId = sessionIdFor(name)
      const trainingId = await startStory(stack, sessionId)
      assert.deepEqual(await stack.awaitWake(trainingId), ['paused'])
      const events = await stack.events(sessionId)
      // The wake again: the session is still paused, and the same question is asked; nothing is written.
      const again = await stack.wake(sessionId, trainingId, 1)
      assert.equal(again.answer?.continuation?.outcome, 'paused')
      const [question] = again.answer?.interrupts ?? []
      assert.equal(question?.name, 'approval')
      assert.equal((question?.reason as { tool?: string } | undefined)?.tool, 'start_evaluate_model')
      assert.equal((await stack.events(sessionId)).length, events.length)
      assert.deepEqual(stack.tasksOf('evaluate_model', sessionId), [])
      return { sessionId, trainingId, interruptId: question.interrupt_id }
    }

    test('approved from a runtime process started anew: the evaluation starts, and its end wakes the agent', async () => {
      const { sessionId, trainingId, interruptId } = await pausedStory('approve-continuation')
      await stack.startRuntimeProcess(APPROVALS)
      const approved = await stack.invoke('', {
        sessionId,
        interruptResponses: [{ interrupt_id: interruptId, response: 'yes' }],
      })
      assert.equal(approved.answer?.interrupts, undefined)
      assert.deepEqual(
        approved.answer?.tasks.map((task) => task.tool),
        ['start_evaluate_model'],
      )
      const evaluationId = evaluationOf(stack, sessionId)
      assert.equal(approved.answer?.tasks[0]?.task_id, evaluationId)
      // The answer was the user's turn: the evaluation's continuation is the first of a new chain.
      assert.deepEqual(await stack.awaitWake(evaluationId), ['ran'])
      const events = await stack.events(sessionId)
      const summary = continuationEvents(events, evaluationId)
      assert.deepEqual(new Set(summary.map((event) => event.continuation)), new Set(['1']))
      assert.equal(finalAnswers(summary).length, 1)
      // The training's continuation was carried to its end by the answer: a late wake runs nothing.
      const late = await stack.wake(sessionId, trainingId, 1)
      assert.equal(late.answer?.continuation?.outcome, 'ran_before')
      assert.equal((await stack.events(sessionId)).length, events.length)
      assert.deepEqual(await stack.converseProblems(sessionId), [])
    })

    test('refused: nothing starts, and a late wake of the training runs nothing', async () => {
      const { sessionId, trainingId, interruptId } = await pausedStory('refuse-continuation')
      const refused = await stack.invoke('', {
        sessionId,
        interruptResponses: [{ interrupt_id: interruptId, response: 'no, not today' }],
      })
      assert.deepEqual(refused.answer?.tasks, [])
      assert.ok(refused.events.some((event) => event.type === 'tool_end' && event.status === 'error'))
      assert.deepEqual(stack.tasksOf('evaluate_model', sessionId), [])
      const events = await stack.events(sessionId)
      const late = await stack.wake(sessionId, trainingId, 1)
      assert.equal(late.answer?.continuation?.outcome, 'ran_before')
      assert.deepEqual(late.answer?.tasks, [])
      assert.equal((await stack.events(sessionId)).length, events.length)
      assert.deepEqual(stack.tasksOf('evaluate_model', sessionId), [])
      assert.deepEqual(await stack.converseProblems(sessionId), [])
    })
  })
})

/** A continuation a limit stopped: its note was told with no tool, and the task's result stays. */
async function assertStopped(
  stack: ContinuationStack,
  sessionId: string,
  taskId: string,
  prompt: string,
): Promise<void> {
  const events = await stack.events(sessionId)
  assert.equal(resultEvents(events, taskId).length, 1, 'the result is in memory')
  const note = continuationEvents(events, taskId)
  assert.deepEqual(new Set(note.map((event) => event.continuation)), new Set(['stopped']))
  assert.deepEqual(userTexts(note), [prompt])
  assert.deepEqual(toolCalls(note), [])
  assert.equal(finalAnswers(note).length, 1, 'the user is told')
  assert.deepEqual(stack.tasksOf('evaluate_model', sessionId).length, 1, 'nothing more was started')
  assert.deepEqual(await stack.converseProblems(sessionId), [])
}

/** The demo model, recording what each call was offered, and holding a call a test picks until released. */
class ControlledDemoModel extends DemoModel {
  readonly calls: { readonly lastUser: string; readonly tools: readonly string[] }[] = []
  #hold: { when: (messages: Message[]) => boolean; reached: () => void; released: Promise<void> } | undefined

  /** Holds the next call for which `when` is true until `release()`. */
  hold(when: (messages: Message[]) => boolean): { reached: Promise<void>; release: () => void } {
    let reached: () => void = () => {}
    let release: () => void = () => {}
    const reachedPromise = new Promise<void>((resolve) => {
      reached = resolve
    })
    const released = new Promise<void>((resolve) => {
      release = resolve
    })
    this.#hold = { when, reached, released }
    return { reached: reachedPromise, release }
  }

  override async *stream(messages: Message[], options?: StreamOptions) {
    const lastUser = messages.findLast((message) => message.role === 'user')
    this.calls.push({
      lastUser:
        lastUser?.content.flatMap((block) => (block.type === 'textBlock' ? [block.text] : [])).join(' ') ??
        '',
      tools: (options?.toolSpecs ?? []).map((spec) => spec.name),
    })
    const hold = this.#hold
    if (hold?.when(messages)) {
      this.#hold = undefined
      hold.reached()
      await hold.released
    }
    yield* super.stream(messages, options)
  }
}

describe('continuations wait their turn, and a stopped one is told without tools', () => {
  const stack = useContinuationStack()
  const model = new ControlledDemoModel()
  /** Every invocation the handler ran: its session, what it was, and when it ran. */
  const runs: { session: string; wake: boolean; start: number; end: number }[] = []
  let server: AgentRuntimeServer
  let pendingWrites: PendingWrites

  before(async () => {
    const logger = { warn: () => {}, debug: () => {} }
    pendingWrites = new PendingWrites({ onOwedChange: () => {}, logger })
    const handler = createAgentInvocationHandler({
      model,
      memoryClient: stack.env.data,
      mcp: { url: stack.mcp.url, bearerToken: TEST_TOKEN },
      pendingWrites,
      logger,
    })
    const tracked: InvocationHandler = async (invocation, emit) => {
      const run = {
        session: invocation.runtimeSessionId,
        wake: invocation.wake !== undefined,
        start: 0,
        end: 0,
      }
      run.start = performance.now()
      try {
        return await handler(invocation, emit)
      } finally {
        run.end = performance.now()
        runs.push(run)
      }
    }
    server = await AgentRuntimeServer.start({
      handler: tracked,
      port: 0,
      host: '127.0.0.1',
      defaultMemoryId: stack.memoryId,
    })
    stack.env.service.registerRuntime('*', server.url)
  })
  after(async () => {
    await server.close()
    await pendingWrites.flushAll()
  })

  test('a wake while a turn of the session runs is SESSION_BUSY; the MCP server retries it after that turn', async () => {
    const sessionId = sessionIdFor('busy')
    // The turn is held after its tool started the training: it runs on while the training ends.
    const held = model.hold((messages) =>
      (messages.at(-1)?.content ?? []).some((block) => block.type === 'toolResultBlock'),
    )
    const turn = stack.invoke('Train a model called busy-1 for 5 epochs', { sessionId })
    await held.reached
    const [training] = stack.tasksOf('model_training', sessionId)
    assert.ok(training)
    const trainingId = training.task_id
    await waitFor(
      () => stack.job(trainingId, 'wake')?.last_error === 'SESSION_BUSY',
      30_000,
      'the MCP server to be told the session is busy',
    )
    // The same answer to a wake sent by hand (the AWS SDK retried it before giving up).
    const direct = await stack.wake(sessionId, trainingId, 1)
    assert.deepEqual(direct.refusal && [direct.refusal.name, direct.refusal.code, direct.refusal.status], [
      'RetryableConflictException',
      'SESSION_BUSY',
      409,
    ])
    assert.deepEqual(stack.wakeOutcomes(trainingId), [])
    held.release()
    const answered = await turn
    assert.deepEqual(
      answered.answer?.tasks.map((task) => task.task_id),
      [trainingId],
    )
    assert.deepEqual(await stack.awaitWake(trainingId), ['ran'])

    // The turns of the session ran one after the other, the continuation last.
    const mine = runs.filter((run) => run.session === sessionId).sort((a, b) => a.start - b.start)
    assert.deepEqual(
      mine.map((run) => run.wake),
      [false, true],
    )
    for (let index = 1; index < mine.length; index += 1)
      assert.ok((mine[index - 1] as { end: number }).end <= (mine[index] as { start: number }).start)
    const events = await stack.events(sessionId)
    const continuation = continuationEvents(events, trainingId)
    const userTurn = events.filter((event) => event.taskId === undefined)
    assert.ok(latest(userTurn) < earliest(continuation), "the continuation's events follow the turn's")
    assert.equal(finalAnswers(continuation).length, 1)
    assert.deepEqual(await stack.converseProblems(sessionId), [])
  })

  test('a wake past the depth limit is stopped: a turn offered no tools tells the user, marked stopped', async () => {
    const sessionId = sessionIdFor('too-deep')
    const taskId = await startQuietTask(stack, sessionId)
    await awaitResult(stack, sessionId, taskId)
    assert.equal(stack.job(taskId, 'wake'), undefined, 'a tool that does not wake owes no wake')
    const calls = model.calls.length
    const stopped = await stack.wake(sessionId, taskId, 4)
    assert.deepEqual(stopped.answer?.continuation, {
      task_id: taskId,
      depth: 4,
      outcome: 'stopped',
      reason: 'depth',
    })
    assert.deepEqual(stopped.answer?.tasks, [])
    const made = model.calls.slice(calls)
    assert.equal(made.length, 1, 'one model call')
    assert.deepEqual(made[0]?.tools, [], 'offered no tools')
    const events = await stack.events(sessionId)
    const note = continuationEvents(events, taskId)
    assert.deepEqual(new Set(note.map((event) => event.continuation)), new Set(['stopped']))
    assert.deepEqual(userTexts(note), [stoppedContinuationPrompt(taskId, 'depth', 3)])
    assert.deepEqual(toolCalls(note), [])
    assert.deepEqual(finalAnswers(note), [stopped.answer?.response])
    // Told once: the same wake again is a duplicate.
    const again = await stack.wake(sessionId, taskId, 4)
    assert.equal(again.answer?.continuation?.outcome, 'ran_before')
    assert.equal(again.answer?.response, stopped.answer?.response)
    assert.equal((await stack.events(sessionId)).length, events.length)
    assert.equal(model.calls.length, calls + 1)
    assert.deepEqual(await stack.converseProblems(sessionId), [])
  })
})
