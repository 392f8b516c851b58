import assert from 'node:assert/strict'
import { readdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import type { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { evaluateModelTool, modelTrainingTool, textStatisticsTool } from '../../src/mcp-server/index.ts'
import { startTask, structured, useMcpTestBed, waitFor, waitIdle } from '../helpers/mcp-server.ts'

/** The `structuredContent.error` of a tool result that is an error. */
function toolError(result: unknown): { code: string; field?: string } {
  const answer = result as { isError?: boolean; structuredContent?: { error?: unknown } }
  assert.equal(answer.isError, true, 'a tool execution error')
  return answer.structuredContent?.error as { code: string; field?: string }
}

interface Metrics {
  accuracy: number
  precision: number
  recall: number
  f1: number
  log_loss: number
  samples: number
  training_accuracy: number
  accuracy_change: number
  confusion: {
    true_positives: number
    false_positives: number
    true_negatives: number
    false_negatives: number
  }
}

describe('evaluate_model', () => {
  const bed = useMcpTestBed((dataDir) => ({
    tools: [
      modelTrainingTool({ dataDir, epochDelayMs: 0 }),
      // A short pause per chunk only so the cancel test can catch an evaluation mid-way.
      evaluateModelTool({ dataDir, chunkDelayMs: 5 }),
      textStatisticsTool(),
    ],
    // Progress reaches the store (check_task_status) every 100 ms rather than every 10 s.
    heartbeatIntervalMs: 100,
  }))
  const connectAs = (actorId: string) =>
    bed.connect({ memory: { sessionId: `s-${actorId}`, memoryId: bed.memoryId, actorId } })

  async function status(client: Client, taskId: string): Promise<Record<string, unknown>> {
    return structured(await client.callTool({ name: 'check_task_status', arguments: { task_id: taskId } }))
  }

  async function ended(client: Client, taskId: string): Promise<Record<string, unknown>> {
    return waitFor(
      async () => {
        const now = await status(client, taskId)
        return ['completed', 'failed', 'cancelled'].includes(now.status as string) && now
      },
      30_000,
      `task ${taskId} to end`,
    )
  }

  async function train(client: Client, modelName: string, epochs = 40): Promise<string> {
    const taskId = await startTask(client, 'start_model_training', { model_name: modelName, epochs })
    assert.equal((await ended(client, taskId)).status, 'completed')
    return taskId
  }

  const evaluate = (client: Client, args: Record<string, unknown>) =>
    client.callTool({ name: 'evaluate_model', arguments: args })

  test('evaluates its own trained model: metrics in range, consistent, close to the training accuracy and repeatable', async () => {
    const client = await connectAs('eval-owner')
    const trainingId = await train(client, 'eval-fraud')
    const progress: number[] = []
    const result = await client.callTool(
      {
        name: 'evaluate_model',
        arguments: { training_task_id: trainingId, samples: 20_000, chunk_size: 2000 },
      },
      undefined,
      { onprogress: (each) => progress.push(each.progress) },
    )
    assert.notEqual(result.isError, true, JSON.stringify(result.content))
    const metrics = structured(result) as unknown as Metrics
    assert.equal(metrics.samples, 20_000)
    for (const name of ['accuracy', 'precision', 'recall', 'f1'] as const) {
      assert.ok(metrics[name] > 0 && metrics[name] <= 1, `${name} in (0, 1]: ${metrics[name]}`)
    }
    assert.ok(Number.isFinite(metrics.log_loss) && metrics.log_loss > 0 && metrics.log_loss < Math.log(2))
    const {
      true_positives: tp,
      false_positives: fp,
      true_negatives: tn,
      false_negatives: fn,
    } = metrics.confusion
    assert.equal(tp + fp + tn + fn, 20_000)
    assert.equal(metrics.accuracy, (tp + tn) / 20_000)
    assert.equal(metrics.precision, tp / (tp + fp))
    assert.equal(metrics.recall, tp / (tp + fn))
    const f1 = (2 * metrics.precision * metrics.recall) / (metrics.precision + metrics.recall)
    assert.ok(Math.abs(metrics.f1 - f1) < 1e-12, 'F1 is the harmonic mean of precision and recall')
    // Held-out data come from the training data's own distribution, and a 9-parameter model barely
    // overfits 3200 samples: the two accuracies differ by sampling noise, whose standard deviation is
    // sqrt(p(1-p)/3200 + p(1-p)/20000) < 0.01 for any p. 0.04 is over four of them.
    const gap = metrics.accuracy - metrics.training_accuracy
    assert.ok(Math.abs(gap) < 0.04, `accuracy ${metrics.accuracy} vs training ${metrics.training_accuracy}`)
    assert.ok(Math.abs(metrics.accuracy_change - gap) < 1e-12)
    for (const done of [2000, 4000, 20_000])
      assert.ok(progress.includes(done), `progress after ${done} samples`)
    // The same seed scores the same data; another seed other data.
    const again = structured(await evaluate(client, { training_task_id: trainingId, samples: 20_000 }))
    assert.deepEqual(again, metrics)
    const other = structured(
      await evaluate(client, { training_task_id: trainingId, samples: 20_000, seed: 2 }),
    )
    assert.notDeepEqual(other.confusion, metrics.confusion)
  })

  test('another actor cannot evaluate a model: its id answers exactly like one that does not exist', async () => {
    const owner = await connectAs('eval-trainer')
    const stranger = await connectAs('eval-stranger')
    const trainingId = await train(owner, 'eval-private', 5)
    const foreign = toolError(await evaluate(stranger, { training_task_id: trainingId }))
    const missing = toolError(await evaluate(stranger, { training_task_id: 'no-such-task' }))
    assert.deepEqual(foreign, { ...missing, message: (foreign as { message?: string }).message })
    assert.equal(foreign.code, 'TRAINING_TASK_NOT_FOUND')
    assert.equal(foreign.field, 'training_task_id')
    // As a background task too: it fails with the same code in its result.
    const taskId = await startTask(stranger, 'start_evaluate_model', { training_task_id: trainingId })
    const end = await ended(stranger, taskId)
    assert.equal(end.status, 'failed')
    const result = structured(
      await stranger.callTool({ name: 'get_task_results', arguments: { task_id: taskId } }),
    ).result as { error: { code: string } }
    assert.equal(result.error.code, 'TRAINING_TASK_NOT_FOUND')
    // The owner's own other tools' tasks are no models either.
    const statsId = await startTask(owner, 'start_text_statistics', { documents: 10 })
    await ended(owner, statsId)
    assert.equal(
      toolError(await evaluate(owner, { training_task_id: statsId })).code,
      'TRAINING_TASK_NOT_FOUND',
    )
  })

  test('a training that is running or was cancelled is not evaluated', async () => {
    const client = await connectAs('eval-early')
    const trainingId = await startTask(client, 'start_model_training', {
      model_name: 'eval-long',
      epochs: 100_000,
    })
    await waitFor(
      async () => (await status(client, trainingId)).status === 'working',
      15_000,
      'training to run',
    )
    const running = toolError(await evaluate(client, { training_task_id: trainingId }))
    assert.equal(running.code, 'TRAINING_NOT_COMPLETED')
    assert.equal(running.field, 'training_task_id')
    await client.callTool({ name: 'cancel_task', arguments: { task_id: trainingId } })
    assert.equal((await ended(client, trainingId)).status, 'cancelled')
    assert.equal(
      toolError(await evaluate(client, { training_task_id: trainingId })).code,
      'TRAINING_NOT_COMPLETED',
    )
  })

  test('a missing or corrupt model file is its own error', async () => {
    const client = await connectAs('eval-files')
    const trainingId = await train(client, 'eval-file', 3)
    const artifact = (
      structured(await client.callTool({ name: 'get_task_results', arguments: { task_id: trainingId } }))
        .result as {
        artifact_path: string
      }
    ).artifact_path
    await writeFile(artifact, '{"kind": "logistic-regression", "weights": "not numbers"}')
    assert.equal(
      toolError(await evaluate(client, { training_task_id: trainingId })).code,
      'MODEL_ARTIFACT_CORRUPT',
    )
    await rm(artifact)
    assert.equal(
      toolError(await evaluate(client, { training_task_id: trainingId })).code,
      'MODEL_ARTIFACT_MISSING',
    )
  })

  test('cancel_task stops an evaluation mid-way', async () => {
    const client = await connectAs('eval-cancel')
    const trainingId = await train(client, 'eval-cancel', 3)
    const taskId = await startTask(client, 'start_evaluate_model', {
      training_task_id: trainingId,
      samples: 1_000_000,
      chunk_size: 100,
    })
    await waitFor(async () => ((await status(client, taskId)).progress as number) > 0, 15_000, 'progress')
    const cancelled = structured(
      await client.callTool({ name: 'cancel_task', arguments: { task_id: taskId } }),
    )
    assert.equal(cancelled.status, 'cancelled')
    await waitIdle(bed.server.runner, 'the evaluation to stop')
    const end = await status(client, taskId)
    assert.equal(end.status, 'cancelled')
    assert.ok((end.progress as number) < 1_000_000, 'it stopped before the end')
  })

  test('bad arguments are refused naming the field, and nothing starts or is written', async () => {
    const client = await connectAs('eval-bad')
    const models = join(bed.dataDir, 'models')
    const before = (await readdir(models).catch(() => [])).sort()
    const cases: Array<[Record<string, unknown>, string]> = [
      [{}, 'training_task_id'],
      [{ training_task_id: '../models/x' }, 'training_task_id'],
      [{ training_task_id: '' }, 'training_task_id'],
      [{ training_task_id: 'abc', samples: 10 }, 'samples'],
      [{ training_task_id: 'abc', samples: 2_000_000 }, 'samples'],
      [{ training_task_id: 'abc', seed: -1 }, 'seed'],
      [{ training_task_id: 'abc', chunk_size: 1.5 }, 'chunk_size'],
    ]
    for (const [args, field] of cases) {
      for (const name of ['evaluate_model', 'start_evaluate_model']) {
        const error = toolError(await client.callTool({ name, arguments: args }))
        assert.equal(error.code, 'INVALID_ARGUMENTS', JSON.stringify(args))
        assert.equal(error.field, field, JSON.stringify(args))
      }
    }
    const listed = structured(await client.callTool({ name: 'list_tasks', arguments: {} })).tasks as unknown[]
    assert.equal(listed.length, 0, 'no task was recorded')
    assert.deepEqual((await readdir(models).catch(() => [])).sort(), before, 'no file was written')
  })
})
