/**
 * `evaluate_model`: scores a model saved by `model_training` on fresh held-out samples drawn from the
 * same true model as its training data, in chunks with progress, and returns accuracy, precision,
 * recall, F1 and log loss next to the training accuracy saved with the model.
 *
 * The model is named by its training task's id, never by a path: the task is looked up through the
 * task backend as one of the caller's own ({@link ToolContext.findOwnTask}), it must have completed,
 * and the artifact path is read from its result (and must lie in `<dataDir>/models/`).
 */
import { readFile, stat } from 'node:fs/promises'
import { basename, dirname, resolve } from 'node:path'
import { setTimeout as delay, setImmediate } from 'node:timers/promises'
import { z } from 'zod'
import {
  defineLongRunningTool,
  type LongRunningTool,
  type ToolContext,
  ToolError,
} from '../long-running-tool.ts'
import { generate, generatingModel, sigmoid } from './model-training.ts'
import { seededRandom, seedFromText } from './random.ts'

/** Configuration of the evaluation tool. */
export interface EvaluateModelConfig {
  /** The data directory `model_training` saves to: artifacts are read only from `<dataDir>/models/`. */
  readonly dataDir: string
  /** Pause after each chunk (0 by default): only to make demos and tests watchable. */
  readonly chunkDelayMs?: number
}

/** Stable codes of the tool's failures (bad arguments are the server's INVALID_ARGUMENTS). */
export type EvaluateModelErrorCode =
  /** No `model_training` task of the caller's with that id: missing and foreign ids alike. */
  | 'TRAINING_TASK_NOT_FOUND'
  /** The training task is queued, running, failed or cancelled: it saved no model to evaluate. */
  | 'TRAINING_NOT_COMPLETED'
  /** The training completed but its model file is gone (another machine's disk, removed). */
  | 'MODEL_ARTIFACT_MISSING'
  /** The model file (or the path the task recorded) is not a model `model_training` saved. */
  | 'MODEL_ARTIFACT_CORRUPT'

/** Bounds of the work one call can ask for. */
const MAX_SAMPLES = 1_000_000
/** A model file is a few hundred bytes per feature; anything far larger is not one. */
const MAX_ARTIFACT_BYTES = 1_000_000
const MAX_FEATURES = 1000

/** Task ids as the server makes them (base64url) or a custom `newTaskId` may: checked before any lookup. */
const TASK_ID = /^[A-Za-z0-9_-]{1,256}$/

const Artifact = z.object({
  kind: z.literal('logistic-regression'),
  model_name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/),
  weights: z.array(z.number().finite()).min(1).max(MAX_FEATURES),
  bias: z.number().finite(),
  epochs: z.number().int().min(1),
  train: z.object({ accuracy: z.number().min(0).max(1), loss: z.number().min(0) }),
  test: z.object({ accuracy: z.number().min(0).max(1), loss: z.number().min(0) }),
  task_id: z.string(),
})
type Artifact = z.output<typeof Artifact>

/** Builds the `evaluate_model` tool. */
export function evaluateModelTool(config: EvaluateModelConfig): LongRunningTool {
  const chunkDelayMs = config.chunkDelayMs ?? 0
  const modelsDirectory = resolve(config.dataDir, 'models')
  return defineLongRunningTool({
    name: 'evaluate_model',
    // Its result is what the agent acts on next (evaluate, then summarise): its end wakes the agent.
    onEnd: 'wake',
    description:
      'Evaluates a model you trained with model_training, named by its training task id, on freshly generated ' +
      'held-out data; returns accuracy, precision, recall, F1 and log loss next to the training accuracy.',
    input: z.object({
      training_task_id: z
        .string()
        .regex(TASK_ID, 'training_task_id must be a task id: 1-256 letters, digits, - or _')
        .describe('The task id of the completed model_training call whose model to evaluate'),
      samples: z
        .number()
        .int()
        .min(100)
        .max(MAX_SAMPLES)
        .default(20_000)
        .describe('Held-out samples to generate and score'),
      chunk_size: z
        .number()
        .int()
        .min(100)
        .max(100_000)
        .default(2000)
        .describe('Samples scored between two progress reports'),
      seed: z
        .number()
        .int()
        .min(0)
        .max(2 ** 31)
        .default(1)
        .describe('Seed of the held-out data (with the model: the same seed gives the same data)'),
    }),
    // Evaluation reads and writes nothing of its own: running it again gives the same answer.
    onRestart: 'rerun',
    mode: 'both',
    async run(input, ctx) {
      const artifactPath = await trainedArtifactPath(ctx, input.training_task_id, modelsDirectory)
      const model = await loadArtifact(artifactPath, input.training_task_id)
      const features = model.weights.length
      const truth = generatingModel(model.model_name, features)
      // Fresh samples from the training data's true model; the seed differs from training's (which
      // is the model name alone), so none of them is a training sample.
      const random = seededRandom(
        seedFromText(
          `evaluate_model\u0000${model.model_name}\u0000${input.training_task_id}\u0000${input.seed}`,
        ),
      )
      let truePositives = 0
      let falsePositives = 0
      let trueNegatives = 0
      let falseNegatives = 0
      let loss = 0
      for (let start = 0; start < input.samples; start += input.chunk_size) {
        ctx.signal.throwIfAborted()
        const end = Math.min(input.samples, start + input.chunk_size)
        // The training's own generator, drawn in the same order: one chunk at a time, never whole.
        const chunk = generate(end - start, features, random, truth.weights, truth.bias)
        for (let i = 0; i < chunk.y.length; i += 1) {
          const row = chunk.x[i] as Float64Array
          let score = model.bias
          for (let j = 0; j < features; j += 1) score += (row[j] as number) * (model.weights[j] as number)
          const label = chunk.y[i] as number
          const p = sigmoid(score)
          loss -= label * Math.log(p + 1e-12) + (1 - label) * Math.log(1 - p + 1e-12)
          const predicted = p >= 0.5 ? 1 : 0
          if (predicted === 1 && label === 1) truePositives += 1
          else if (predicted === 1) falsePositives += 1
          else if (label === 0) trueNegatives += 1
          else falseNegatives += 1
        }
        const correct = truePositives + trueNegatives
        ctx.progress(
          end,
          input.samples,
          `${end}/${input.samples} samples, accuracy ${(correct / end).toFixed(4)}`,
        )
        if (chunkDelayMs > 0) await delay(chunkDelayMs, undefined, { signal: ctx.signal })
        else await setImmediate()
      }
      const n = input.samples
      const accuracy = (truePositives + trueNegatives) / n
      // No predicted (or actual) positives: precision (recall) is 0 by convention, not NaN.
      const precision = ratio(truePositives, truePositives + falsePositives)
      const recall = ratio(truePositives, truePositives + falseNegatives)
      const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall)
      return {
        training_task_id: input.training_task_id,
        model_name: model.model_name,
        features,
        samples: n,
        seed: input.seed,
        accuracy,
        precision,
        recall,
        f1,
        log_loss: loss / n,
        confusion: {
          true_positives: truePositives,
          false_positives: falsePositives,
          true_negatives: trueNegatives,
          false_negatives: falseNegatives,
        },
        training_accuracy: model.train.accuracy,
        training_test_accuracy: model.test.accuracy,
        accuracy_change: accuracy - model.train.accuracy,
      }
    },
  })
}

function ratio(part: number, whole: number): number {
  return whole === 0 ? 0 : part / whole
}

/**
 * The artifact path recorded by the caller's own completed `model_training` task. Missing and
 * foreign ids (and tasks of other tools) fail alike, so the answer says nothing of other owners.
 */
async function trainedArtifactPath(
  ctx: ToolContext,
  taskId: string,
  modelsDirectory: string,
): Promise<string> {
  const task = await ctx.findOwnTask(taskId)
  if (task === undefined || task.tool !== 'model_training') {
    throw new ToolError(
      'TRAINING_TASK_NOT_FOUND',
      `No model_training task of yours has the id ${JSON.stringify(taskId)}`,
      {
        field: 'training_task_id',
      },
    )
  }
  if (task.status !== 'completed') {
    throw new ToolError(
      'TRAINING_NOT_COMPLETED',
      `The training task ${taskId} is ${task.status === 'working' ? 'still running or queued' : task.status}: only a completed training saved a model`,
      { field: 'training_task_id' },
    )
  }
  const recorded = task.result?.artifact_path
  // The path comes from our own record, yet is still held to the models directory and this task's name.
  const path = typeof recorded === 'string' ? resolve(recorded) : undefined
  if (
    path === undefined ||
    dirname(path) !== modelsDirectory ||
    !basename(path).endsWith(`-${taskId}.json`)
  ) {
    throw new ToolError(
      'MODEL_ARTIFACT_CORRUPT',
      `The training task ${taskId} recorded no model file in this server's models directory`,
    )
  }
  return path
}

async function loadArtifact(path: string, taskId: string): Promise<Artifact> {
  let text: string
  try {
    const info = await stat(path)
    if (!info.isFile() || info.size > MAX_ARTIFACT_BYTES) {
      throw new ToolError(
        'MODEL_ARTIFACT_CORRUPT',
        `The model file of training task ${taskId} is not a model`,
      )
    }
    text = await readFile(path, 'utf8')
  } catch (error) {
    if (error instanceof ToolError) throw error
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new ToolError(
        'MODEL_ARTIFACT_MISSING',
        `The model file of training task ${taskId} is gone (removed, or saved on another machine)`,
      )
    }
    throw error
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    parsed = undefined
  }
  const artifact = Artifact.safeParse(parsed)
  if (!artifact.success || artifact.data.task_id !== taskId) {
    throw new ToolError('MODEL_ARTIFACT_CORRUPT', `The model file of training task ${taskId} is corrupt`)
  }
  return artifact.data
}
