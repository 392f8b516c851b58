/**
 * `model_training`: trains a logistic regression by full-batch gradient descent on a data set
 * generated from the model name (so a re-run after a restart sees the same data), reports each
 * epoch's real loss, saves the model to the data directory and returns its measured scores.
 */
import { chmod, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as delay, setImmediate } from 'node:timers/promises'
import { z } from 'zod'
import { ensurePrivateDirectory, PRIVATE_FILE_MODE } from '../../shared/private-files.ts'
import { defineLongRunningTool, type LongRunningTool } from '../long-running-tool.ts'
import { normal, seededRandom, seedFromText } from './random.ts'

/** Configuration of the training tool. */
export interface ModelTrainingConfig {
  /** Model artifacts go to `<dataDir>/models/`, owner-only. */
  readonly dataDir: string
  /** Pause after each epoch (0 by default): only to make demos and tests watchable. */
  readonly epochDelayMs?: number
  /** Generated samples (default 4000, 80% for training) and features (default 8). */
  readonly samples?: number
  readonly features?: number
}

interface DataSet {
  readonly x: Float64Array[]
  readonly y: Uint8Array
}

export const sigmoid = (z: number) => 1 / (1 + Math.exp(-z))

/**
 * The true model a model name's data set is drawn from: its weights and bias are the first draws of
 * the name's seed, and `random` goes on from there (training draws its samples from it).
 * `evaluate_model` draws fresh held-out samples from the same true model.
 */
export function generatingModel(
  modelName: string,
  features: number,
): { random: () => number; weights: number[]; bias: number } {
  const random = seededRandom(seedFromText(modelName))
  const weights = Array.from({ length: features }, () => normal(random) * 1.5)
  const bias = normal(random) * 0.5
  return { random, weights, bias }
}

/** Builds the `model_training` tool. */
export function modelTrainingTool(config: ModelTrainingConfig): LongRunningTool {
  const samples = config.samples ?? 4000
  const features = config.features ?? 8
  const epochDelayMs = config.epochDelayMs ?? 0
  return defineLongRunningTool({
    name: 'model_training',
    // Its result is what the agent acts on next (evaluate, then summarise): its end wakes the agent.
    onEnd: 'wake',
    description:
      'Trains a logistic-regression model on a data set generated from model_name for the given number of epochs, ' +
      'reporting the loss of every epoch; saves the model and returns its accuracy and loss.',
    input: z.object({
      model_name: z
        .string()
        .regex(/^[a-zA-Z0-9_-]{1,64}$/, 'model_name must be 1-64 letters, digits, - or _')
        .describe('Name of the model; also seeds the generated data set'),
      epochs: z
        .number()
        .int()
        .min(1)
        .max(100_000)
        .describe('Passes of gradient descent over the training data'),
      learning_rate: z.number().positive().max(10).default(0.5).describe('Gradient-descent step size'),
    }),
    onRestart: 'rerun',
    mode: 'both',
    async run(input, ctx) {
      const { random, weights: trueWeights, bias: trueBias } = generatingModel(input.model_name, features)
      const all = generate(samples, features, random, trueWeights, trueBias)
      const cut = Math.floor(samples * 0.8)
      const train: DataSet = { x: all.x.slice(0, cut), y: all.y.slice(0, cut) }
      const test: DataSet = { x: all.x.slice(cut), y: all.y.slice(cut) }
      const weights = new Float64Array(features)
      let bias = 0
      const lossHistory: number[] = []
      const gradient = new Float64Array(features)
      for (let epoch = 1; epoch <= input.epochs; epoch += 1) {
        ctx.signal.throwIfAborted()
        gradient.fill(0)
        let biasGradient = 0
        let loss = 0
        for (let i = 0; i < train.x.length; i += 1) {
          const row = train.x[i] as Float64Array
          const label = train.y[i] as number
          const p = sigmoid(dot(weights, row) + bias)
          loss -= label * Math.log(p + 1e-12) + (1 - label) * Math.log(1 - p + 1e-12)
          const error = p - label
          for (let j = 0; j < features; j += 1)
            gradient[j] = (gradient[j] as number) + error * (row[j] as number)
          biasGradient += error
        }
        const n = train.x.length
        for (let j = 0; j < features; j += 1) {
          weights[j] = (weights[j] as number) - (input.learning_rate * (gradient[j] as number)) / n
        }
        bias -= (input.learning_rate * biasGradient) / n
        loss /= n
        lossHistory.push(loss)
        ctx.progress(epoch, input.epochs, `epoch ${epoch}/${input.epochs} loss=${loss.toFixed(5)}`)
        if (epochDelayMs > 0) await delay(epochDelayMs, undefined, { signal: ctx.signal })
        else await setImmediate()
      }
      const trainScores = evaluate(train, weights, bias)
      const testScores = evaluate(test, weights, bias)
      const directory = join(config.dataDir, 'models')
      ensurePrivateDirectory(directory)
      const artifactPath = join(directory, `${input.model_name}-${ctx.taskId}.json`)
      const artifact = {
        kind: 'logistic-regression',
        model_name: input.model_name,
        weights: [...weights],
        bias,
        epochs: input.epochs,
        learning_rate: input.learning_rate,
        train: trainScores,
        test: testScores,
        task_id: ctx.taskId,
        saved_at: new Date().toISOString(),
      }
      // Write then rename: a crash never leaves half a model under the final name. Owner-only
      // whatever the umask (chmod also covers a temporary file left by a crash).
      await writeFile(`${artifactPath}.tmp`, JSON.stringify(artifact, null, 2), { mode: PRIVATE_FILE_MODE })
      await chmod(`${artifactPath}.tmp`, PRIVATE_FILE_MODE)
      await rename(`${artifactPath}.tmp`, artifactPath)
      return {
        model_name: input.model_name,
        epochs: input.epochs,
        features,
        train_samples: train.x.length,
        test_samples: test.x.length,
        initial_loss: lossHistory[0],
        final_loss: lossHistory.at(-1),
        train_accuracy: trainScores.accuracy,
        test_accuracy: testScores.accuracy,
        test_loss: testScores.loss,
        artifact_path: artifactPath,
      }
    },
  })
}

/** `count` samples of `features` standard-normal features, labelled by the logistic model `weights`, `bias`. */
export function generate(
  count: number,
  features: number,
  random: () => number,
  weights: number[],
  bias: number,
): DataSet {
  const x: Float64Array[] = []
  const y = new Uint8Array(count)
  for (let i = 0; i < count; i += 1) {
    const row = new Float64Array(features)
    let z = bias
    for (let j = 0; j < features; j += 1) {
      row[j] = normal(random)
      z += (row[j] as number) * (weights[j] as number)
    }
    x.push(row)
    y[i] = random() < sigmoid(z) ? 1 : 0
  }
  return { x, y }
}

function dot(weights: Float64Array, row: Float64Array): number {
  let sum = 0
  for (let j = 0; j < weights.length; j += 1) sum += (weights[j] as number) * (row[j] as number)
  return sum
}

function evaluate(data: DataSet, weights: Float64Array, bias: number): { accuracy: number; loss: number } {
  let correct = 0
  let loss = 0
  for (let i = 0; i < data.x.length; i += 1) {
    const p = sigmoid(dot(weights, data.x[i] as Float64Array) + bias)
    const label = data.y[i] as number
    if ((p >= 0.5 ? 1 : 0) === label) correct += 1
    loss -= label * Math.log(p + 1e-12) + (1 - label) * Math.log(1 - p + 1e-12)
  }
  return { accuracy: correct / data.x.length, loss: loss / data.x.length }
}
