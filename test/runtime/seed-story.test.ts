import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { CONTINUATION_METADATA_KEY, TASK_ID_METADATA_KEY } from '../../src/contract/index.ts'
import {
  evaluateModelTool,
  type LongRunningMcpServer,
  modelTrainingTool,
  textStatisticsTool,
} from '../../src/mcp-server/index.ts'
import { decodeMemoryEvent } from '../../src/memory/index.ts'
import { stopServiceProcess } from '../helpers/child-process.ts'
import { listSessionEvents } from '../helpers/local-agentcore.ts'
import {
  connectClient,
  listAllEvents,
  startTestServer,
  structured,
  tempDir,
  waitFor,
} from '../helpers/mcp-server.ts'
import {
  type RuntimeStack,
  responseOf,
  sessionIdFor,
  TEST_RUNTIME_ARN,
  useRuntimeStack,
} from '../helpers/runtime-stack.ts'

describe("the seed's story through InvokeAgentRuntime, the runtime stopped in between", () => {
  // 40 epochs of 100 ms: the task outlives the first runtime process by a few seconds.
  const stack = useRuntimeStack({ epochDelayMs: 100 })
  /** The answers of the story told with the runtime restarted, for the warm telling to match. */
  const restartedAnswers: string[] = []
  /** An answer with what differs between two tellings (task ids, file paths) blanked. */
  const comparable = (text: string) =>
    text
      .replace(/([Tt]ask )[A-Za-z0-9_-]{24}(?![A-Za-z0-9_-])/g, '$1<task>')
      .replace(/Saved at \S+/g, 'Saved at <path>')

  /** Waits until the task's result is delivered into memory, and returns its scores. */
  const awaitDelivery = async (sessionId: string, taskId: string) => {
    const mcp = await connectClient(stack.mcp.url, {
      memory: { sessionId, memoryId: stack.memoryId, actorId: 'default' },
    })
    try {
      await waitFor(
        async () => {
          const status = structured(
            await mcp.callTool({ name: 'check_task_status', arguments: { task_id: taskId } }),
          )
          return (status.delivery as { state: string }).state === 'delivered'
        },
        30_000,
        'the result to be delivered into memory',
      )
    } finally {
      await mcp.close()
    }
  }

  test('a training started in one runtime process ends while none runs, lands in memory once, and a fresh process reports its real scores', async () => {
    const sessionId = sessionIdFor('seed-story')
    const first = await stack.startRuntimeProcess()
    const started = await stack.invoke('Train a model called churn-v1 for 40 epochs', { sessionId })
    const [task] = started.answer?.tasks ?? []
    assert.ok(task, 'the answer names the background task')
    assert.equal(task.tool, 'start_model_training')
    assert.match(responseOf(started), new RegExp(task.task_id))
    assert.ok(started.events.some((event) => event.type === 'task_started' && event.task_id === task.task_id))

    // The user leaves: the runtime process goes away while the task still runs.
    assert.equal(await stopServiceProcess(first, 'SIGTERM'), 0)
    const mcp = await connectClient(stack.mcp.url, {
      memory: { sessionId, memoryId: stack.memoryId, actorId: 'default' },
    })
    try {
      const running = structured(
        await mcp.callTool({ name: 'check_task_status', arguments: { task_id: task.task_id } }),
      )
      assert.equal(running.status, 'working', 'the task outlived the runtime process')
      const delivered = await waitFor(
        async () => {
          const status = structured(
            await mcp.callTool({ name: 'check_task_status', arguments: { task_id: task.task_id } }),
          )
          return (status.delivery as { state: string }).state === 'delivered' ? status : undefined
        },
        30_000,
        'the result to be delivered into memory',
      )
      assert.equal(delivered.status, 'completed')
      const results = structured(
        await mcp.callTool({ name: 'get_task_results', arguments: { task_id: task.task_id } }),
      )
      const scores = results.result as { test_accuracy: number; train_accuracy: number; final_loss: number }

      const events = await listAllEvents(stack.env.data, stack.memoryId, 'default', sessionId)
      const resultEvents = events.filter((event) => event.text.includes(`Long-running task ${task.task_id}`))
      assert.equal(resultEvents.length, 1, 'the result is written into the session exactly once')

      // Days later: a new runtime process, the same session, boto3-style JSON call.
      await stack.startRuntimeProcess()
      const back = await stack.invoke('What happened to my training?', {
        sessionId,
        stream: false,
        asBoto3: true,
      })
      const answer = responseOf(back)
      assert.match(answer, /^\[demo model\]/)
      assert.ok(answer.includes(task.task_id), answer)
      assert.ok(answer.includes(`test accuracy ${scores.test_accuracy}`), answer)
      assert.ok(answer.includes(`train accuracy ${scores.train_accuracy}`), answer)
      assert.ok(answer.includes(`final loss ${scores.final_loss}`), answer)
      assert.equal(back.answer?.session_id, sessionId)
      assert.deepEqual(back.answer?.tasks, [])
      restartedAnswers.push(responseOf(started), answer)
    } finally {
      await mcp.close()
    }
  })

  test('told again with the runtime kept warm (one process, the session read warm), the story gives the same answers', async () => {
    assert.equal(restartedAnswers.length, 2, 'the restarted telling ran first')
    const sessionId = sessionIdFor('seed-story-warm')
    const lines: string[] = []
    await stack.startRuntime({}, { log: (_level, message) => lines.push(message) })
    const started = await stack.invoke('Train a model called churn-v1 for 40 epochs', { sessionId })
    const taskId = started.answer?.tasks[0]?.task_id as string
    await awaitDelivery(sessionId, taskId)
    const back = await stack.invoke('What happened to my training?', {
      sessionId,
      stream: false,
      asBoto3: true,
    })
    assert.deepEqual(
      [responseOf(started), responseOf(back)].map(comparable),
      restartedAnswers.map(comparable),
    )
    const restores = lines.filter((line) => line.includes('session restored'))
    assert.match(
      restores.at(-1) ?? '',
      /kind=warm list_calls=1 /,
      'the second invocation read only what was new',
    )
  })
})

/** One answer a continuation turn stored: the task that woke it, its depth, its text. */
interface ContinuationAnswer {
  readonly taskId: string
  readonly depth: string
  readonly text: string
}

/**
 * The answers of the continuation turns stored in a session, oldest first: the assistant's text
 * (not its tool calls) of events marked with a task id and a continuation depth.
 */
async function continuationAnswers(stack: RuntimeStack, sessionId: string): Promise<ContinuationAnswer[]> {
  const events = await listSessionEvents(stack.env.data, stack.memoryId, 'default', sessionId)
  return events.flatMap((event) => {
    const taskId = event.metadata?.[TASK_ID_METADATA_KEY]?.stringValue
    const depth = event.metadata?.[CONTINUATION_METADATA_KEY]?.stringValue
    if (taskId === undefined || depth === undefined) return []
    return decodeMemoryEvent(event).messages.flatMap((message) => {
      if (message.role !== 'assistant' || message.content.some((block) => block.type === 'toolUseBlock'))
        return []
      const text = message.content
        .flatMap((block) => (block.type === 'textBlock' ? [block.text] : []))
        .join('\n')
      return text === '' ? [] : [{ taskId, depth, text }]
    })
  })
}

describe('the extended story through InvokeAgentRuntime: train, then evaluate, while the user is away', () => {
  const stack = useRuntimeStack()
  /** An MCP server with the evaluation tool whose tasks wake the test runtime when they end. */
  let waking: LongRunningMcpServer
  let dir: { path: string; remove(): Promise<void> }
  before(async () => {
    dir = await tempDir('longrun-continuations-')
    waking = await startTestServer(dir.path, {
      memoryClient: stack.env.data,
      // 30 epochs of 100 ms: the training outlives the first runtime process by a few seconds.
      tools: [
        modelTrainingTool({ dataDir: dir.path, epochDelayMs: 100 }),
        evaluateModelTool({ dataDir: dir.path }),
        textStatisticsTool(),
      ],
      wake: { runtime: TEST_RUNTIME_ARN },
    })
  })
  after(async () => {
    await waking.close()
    await dir.remove()
  })

  test('the training ends while no runtime runs, its wake is retried until a new process takes it, that continuation starts the evaluation, the next one sums both up, and "what happened?" reports both results', async () => {
    const sessionId = sessionIdFor('seed-story-continued')
    const overrides = { MCP_SERVER_URL: waking.url }
    const invokes = () => stack.env.service.faults.counts().InvokeAgentRuntime?.calls ?? 0
    const first = await stack.startRuntimeProcess(overrides)
    const started = await stack.invoke('Train a model called fraud-v2 for 30 epochs, then evaluate it.', {
      sessionId,
    })
    const [training] = started.answer?.tasks ?? []
    assert.ok(training, 'the answer names the background task at once')
    assert.equal(training.tool, 'start_model_training')
    assert.match(responseOf(started), new RegExp(training.task_id))

    // The user leaves, and the runtime process goes away while the training still runs.
    const invokedByUser = invokes()
    assert.equal(await stopServiceProcess(first, 'SIGTERM'), 0)
    const mcp = await connectClient(waking.url, {
      memory: { sessionId, memoryId: stack.memoryId, actorId: 'default' },
    })
    try {
      const status = async (taskId: string) =>
        structured(await mcp.callTool({ name: 'check_task_status', arguments: { task_id: taskId } }))
      assert.equal((await status(training.task_id)).status, 'working', 'the training outlived the runtime')
      // Its result lands in memory, and its wake finds no runtime: the MCP server tries again later.
      await waitFor(
        async () =>
          ((await status(training.task_id)).delivery as { state: string }).state === 'delivered' &&
          invokes() >= invokedByUser + 2,
        30_000,
        'the result in memory and the wake tried twice while no runtime runs',
      )
      assert.deepEqual(await continuationAnswers(stack, sessionId), [], 'nothing ran the continuation yet')

      // A new runtime process: the retried wake reaches it, and the continuations run on their own.
      await stack.startRuntimeProcess(overrides)
      const summary = await waitFor(
        async () => (await continuationAnswers(stack, sessionId)).find((answer) => answer.depth === '2'),
        60_000,
        "the evaluation's continuation to store its summary",
      )
      const answers = await continuationAnswers(stack, sessionId)
      const onTraining = answers.filter((answer) => answer.taskId === training.task_id)
      assert.equal(onTraining.length, 1, "the training's continuation answered once")
      const evaluationId = /started the next step: task (\S+) \(evaluate_model\)/.exec(
        onTraining[0]?.text ?? '',
      )?.[1]
      assert.ok(evaluationId, `the training's continuation started the evaluation: ${onTraining[0]?.text}`)
      assert.equal(onTraining[0]?.depth, '1')
      assert.equal(summary.taskId, evaluationId, "the summary is the evaluation's continuation")
      assert.equal(answers.filter((answer) => answer.taskId === evaluationId).length, 1)
      assert.match(summary.text, /Summary:/)

      const results = async (taskId: string) =>
        structured(await mcp.callTool({ name: 'get_task_results', arguments: { task_id: taskId } }))
          .result as Record<string, unknown>
      const trained = await results(training.task_id)
      const evaluated = await results(evaluationId)
      assert.equal(evaluated.training_task_id, training.task_id, 'the evaluation scored the trained model')
      const numbers = [
        `test accuracy ${String(trained.test_accuracy)}`,
        `train accuracy ${String(trained.train_accuracy)}`,
        `final loss ${String(trained.final_loss)}`,
        `held-out samples: accuracy ${String(evaluated.accuracy)}`,
        `precision ${String(evaluated.precision)}`,
        `recall ${String(evaluated.recall)}`,
        `F1 ${String(evaluated.f1)}`,
        `log loss ${String(evaluated.log_loss)}`,
      ]
      for (const number of numbers) assert.ok(summary.text.includes(number), `${number} in: ${summary.text}`)

      // The user comes back, in a new invocation.
      const back = await stack.invoke('what happened?', { sessionId })
      const answer = responseOf(back)
      assert.match(answer, /^\[demo model\]/)
      assert.ok(answer.includes(training.task_id) && answer.includes(evaluationId), answer)
      for (const number of numbers) assert.ok(answer.includes(number), `${number} in: ${answer}`)
      assert.deepEqual(back.answer?.tasks, [], 'the answer started nothing')
      assert.ok(!back.events.some((event) => event.type === 'task_started'))
      const listed = structured(await mcp.callTool({ name: 'list_tasks', arguments: {} }))
      assert.deepEqual(
        (listed.tasks as { task_id: string }[]).map((task) => task.task_id).sort(),
        [training.task_id, evaluationId].sort(),
        'the session has the two tasks and no other',
      )
    } finally {
      await mcp.close()
    }
  })
})
