import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { stopServiceProcess } from '../helpers/child-process.ts'
import { connectClient, listAllEvents, structured, waitFor } from '../helpers/mcp-server.ts'
import { responseOf, sessionIdFor, useRuntimeStack } from '../helpers/runtime-stack.ts'

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
