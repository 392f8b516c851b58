/**
 * The demo model's decisions: a deterministic, offline stand-in for a language model that turns a
 * handful of requests ("train a model called X for N epochs", "what is the status of my task",
 * "show my results", "cancel it", "list my tasks") into calls of the long-running MCP tools, and
 * reports what the tools answered, including a result that arrived later in the conversation.
 * It reads and answers the Converse message format (which Strands' message JSON shares), so the
 * same decisions drive the Strands demo model and the local Bedrock and OpenAI endpoints.
 */
import { createHash } from 'node:crypto'
import { isRecord } from '../shared/is-record.ts'

/**
 * The first words of a continuation turn's prompt (the runtime writes it when a finished task wakes
 * the agent; see `src/contract/continuation.ts`, which the demo may not import): the task it names,
 * and whether a limit stopped the agent from acting.
 */
const CONTINUATION = /^\[continuation\] Task (\S+) ended while the user was away;/
const CONTINUATION_STOPPED = /You may not act on it on your own: ([^.]*)\./

/** A content block of a Converse (and Strands) message, as far as the demo reads it. */
export type DemoContentBlock =
  | { readonly text: string }
  | { readonly toolUse: { readonly toolUseId: string; readonly name: string; readonly input: unknown } }
  | {
      readonly toolResult: {
        readonly toolUseId: string
        readonly status?: string | undefined
        readonly content: readonly DemoToolResultContent[]
      }
    }
  | Readonly<Record<string, unknown>>

export type DemoToolResultContent = { readonly text: string } | { readonly json: unknown } | object

export interface DemoMessage {
  readonly role: 'user' | 'assistant'
  readonly content: readonly DemoContentBlock[]
}

/**
 * What the demo model says next: a text answer, or one tool call without text (the OpenAI chat
 * path of Strands drops text streamed before a tool call, so no provider ever shows any).
 */
export type DemoDecision =
  | { readonly kind: 'text'; readonly text: string }
  | {
      readonly kind: 'toolUse'
      readonly toolUseId: string
      readonly name: string
      readonly input: Record<string, unknown>
    }

/** Every answer starts with this, so nobody mistakes the demo for a real model. */
export const DEMO_LABEL = '[demo model]'

const DEFAULT_MODEL_NAME = 'demo-model'
const DEFAULT_EPOCHS = 10
/** The first line of a start_ tool's answer. */
const STARTED_TASK = /^Started task (\S+) \(/
/** The first line of get_task_results for an ended task. */
const ENDED_TASK = /^Task (\S+) \((\S+)\) (completed|failed|cancelled)\./
const DELIVERED_RESULT =
  /^Long-running task (\S+) \(tool (\S+)\) (completed|failed|cancelled)\.\nResult:\n([\s\S]*)$/

const HELP =
  'I am the offline demo model: I understand requests such as "train a model called fraud-v1 for 30 epochs", ' +
  '"... and wait for it", "what is the status of my task", "show my results", "cancel it" and "list my tasks", ' +
  'and I report what the long-running tools answer. Set MODEL_PROVIDER=bedrock or openai for a real model.'

/**
 * Decides the next assistant turn from the conversation and the names of the tools on offer.
 * Deterministic: the same conversation always gets the same decision.
 */
export function decideDemoTurn(messages: readonly DemoMessage[], toolNames: readonly string[]): DemoDecision {
  const last = messages.at(-1)
  // The user's own words: text that is not a task result some tool wrote into the conversation.
  const prompt = last?.role === 'user' ? promptOf(last) : ''
  const results = last?.role === 'user' ? toolResultsOf(last) : []
  // Tool results with a prompt after them are an earlier, interrupted turn's: the prompt is what to answer.
  if (results.length > 0 && prompt === '')
    return say(results.map((result) => reportToolResult(messages, result)).join('\n'))
  const woken = CONTINUATION.exec(prompt)?.[1]
  if (woken !== undefined) return decideContinuation(woken, prompt, messages, new Set(toolNames))
  return decidePrompt(prompt, messages, new Set(toolNames))
}

/**
 * A continuation: the task named ended while the user was away. After a training the user asked to
 * evaluate, the evaluation is started; after an evaluation, both results are summed up; any other
 * result is reported. Stopped by a limit, the result is reported and the stop said.
 */
function decideContinuation(
  taskId: string,
  prompt: string,
  messages: readonly DemoMessage[],
  tools: Set<string>,
): DemoDecision {
  const delivered = latestDeliveredResult(messages, taskId)
  if (delivered === undefined)
    return say(`Task ${taskId} ended while you were away, but its result is not in this conversation.`)
  const stopped = CONTINUATION_STOPPED.exec(prompt)?.[1]
  if (stopped !== undefined)
    return say(
      `While you were away, ${reportDelivered(delivered)} I stopped acting on finished tasks on my own (${stopped}); tell me how to go on.`,
    )
  const asked = lastRequest(messages).toLowerCase()
  if (delivered.tool === 'model_training' && delivered.status === 'completed' && /\bevaluat/.test(asked)) {
    if (!tools.has('start_evaluate_model'))
      return say(
        `While you were away, ${reportDelivered(delivered)} I would evaluate it now, but the evaluation tool is not available.`,
      )
    return {
      kind: 'toolUse',
      toolUseId: toolUseIdFor(messages),
      name: 'start_evaluate_model',
      input: { training_task_id: taskId },
    }
  }
  if (delivered.tool === 'evaluate_model' && delivered.status === 'completed') {
    const evaluation = parseObject(delivered.text)
    const trainingId =
      typeof evaluation?.training_task_id === 'string' ? evaluation.training_task_id : undefined
    const training = trainingId === undefined ? undefined : latestDeliveredResult(messages, trainingId)
    const trained = training === undefined ? undefined : parseObject(training.text)
    return say(
      [
        'While you were away, the work you asked for finished. Summary:',
        ...(trained !== undefined ? [`- Training (task ${trainingId}): ${describeScores(trained)}`] : []),
        `- Evaluation (task ${taskId}): ${evaluation === undefined ? firstLines(delivered.text) : describeEvaluation(evaluation)}`,
      ].join('\n'),
    )
  }
  return say(`While you were away, ${reportDelivered(delivered)}`)
}

/** The user's own newest request: text that is neither a task result nor a continuation's prompt. */
function lastRequest(messages: readonly DemoMessage[]): string {
  for (let index = messages.length - 1; index >= 0; index -= 1) {
    const message = messages[index] as DemoMessage
    if (message.role !== 'user') continue
    const text = promptOf(message)
    if (text !== '' && !CONTINUATION.test(text)) return text
  }
  return ''
}

/** The metrics of an evaluation, every number exactly as the tool returned it. */
function describeEvaluation(result: Record<string, unknown>): string {
  const parts: string[] = []
  for (const [label, key] of [
    ['accuracy', 'accuracy'],
    ['precision', 'precision'],
    ['recall', 'recall'],
    ['F1', 'f1'],
    ['log loss', 'log_loss'],
  ] as const) {
    if (result[key] !== undefined) parts.push(`${label} ${String(result[key])}`)
  }
  const model = typeof result.model_name === 'string' ? `Model ${result.model_name} ` : ''
  const samples =
    typeof result.samples === 'number' ? `on ${result.samples} held-out samples` : 'on held-out data'
  return `${model}scored ${samples}: ${parts.join(', ')}.`
}

function decidePrompt(prompt: string, messages: readonly DemoMessage[], tools: Set<string>): DemoDecision {
  const lower = prompt.toLowerCase()
  const call = (name: string, input: Record<string, unknown>): DemoDecision => {
    if (!tools.has(name)) {
      return say(
        `I would call the tool ${name}, but it is not available right now (the long-running MCP server may be unreachable), so I cannot do that yet.`,
      )
    }
    return { kind: 'toolUse', toolUseId: toolUseIdFor(messages), name, input }
  }
  const explicitId = /\btask(?:[ _]id)?\s+([A-Za-z0-9_-]{12,})/i.exec(prompt)?.[1]
  const latest = explicitId ?? latestTaskId(messages)
  if (/\b(cancel|abort|stop)\b/.test(lower)) {
    if (latest === undefined) return say('There is no task to cancel yet.')
    return call('cancel_task', { task_id: latest })
  }
  if (/\blist\b.*\btasks?\b|\b(my|all) tasks\b/.test(lower)) return call('list_tasks', {})
  if (/\btrain\b|\bstart\b.*\btraining\b/.test(lower)) {
    const name = /\b(?:called|named)\s+["'`]?([A-Za-z0-9_-]{1,64})/i.exec(prompt)?.[1] ?? DEFAULT_MODEL_NAME
    const epochs = Number(/(\d{1,6})\s*epochs?\b/i.exec(prompt)?.[1] ?? DEFAULT_EPOCHS)
    const rate = /learning rate\s+(?:of\s+)?(\d*\.?\d+)/i.exec(prompt)?.[1]
    const input = { model_name: name, epochs, ...(rate !== undefined && { learning_rate: Number(rate) }) }
    return call(/\bwait\b/.test(lower) ? 'model_training' : 'start_model_training', input)
  }
  if (/\b(status|progress)\b|\bhow (is|far)\b|\bstill running\b/.test(lower)) {
    if (latest === undefined) return say('You have not started a task in this conversation yet.')
    return call('check_task_status', { task_id: latest })
  }
  if (/\bhappened\b|\bwhile i was away\b/.test(lower) && explicitId === undefined) {
    const all = deliveredResults(messages)
    if (all.length > 1)
      return say(
        [
          `${all.length} task result(s) arrived in this conversation:`,
          ...all.map((one) => `- ${upperFirst(reportDelivered(one))}`),
        ].join('\n'),
      )
  }
  if (/\b(results?|scores?|accuracy|happened|finished|done)\b|\bhow did\b/.test(lower)) {
    const delivered = latestDeliveredResult(messages, explicitId)
    if (delivered !== undefined) return say(upperFirst(reportDelivered(delivered)))
    if (latest === undefined)
      return say('No task has been started in this conversation, so there is no result.')
    return call('get_task_results', { task_id: latest })
  }
  return say(HELP)
}

/**
 * Tokens of a value at four characters a token: the shape of a model's usage report, not a
 * billing figure (the demo has no tokenizer).
 */
export function estimateTokens(value: unknown): number {
  return Math.ceil(JSON.stringify(value).length / 4)
}

/** A text answer cut into word-sized deltas, the way a model streams it. */
export function textDeltas(text: string): string[] {
  return text.match(/\S+\s*|\s+/g) ?? []
}

function say(text: string): DemoDecision {
  return { kind: 'text', text: `${DEMO_LABEL} ${text}` }
}

/** Unique within a conversation and the same for the same conversation. */
function toolUseIdFor(messages: readonly DemoMessage[]): string {
  return `demo_${createHash('sha256').update(JSON.stringify(messages)).digest('hex').slice(0, 20)}`
}

interface ToolResult {
  readonly toolUseId: string
  readonly status: string
  readonly text: string
  /** The first JSON value in the result: a json block, or text that parses as JSON. */
  readonly json: Record<string, unknown> | undefined
}

function toolResultsOf(message: DemoMessage): ToolResult[] {
  return message.content.flatMap((block) => {
    if (!('toolResult' in block)) return []
    const result = block.toolResult as {
      toolUseId: string
      status?: string
      content: readonly DemoToolResultContent[]
    }
    const texts: string[] = []
    let json: Record<string, unknown> | undefined
    for (const item of result.content) {
      if ('json' in item && isRecord(item.json)) json ??= item.json
      if ('text' in item && typeof item.text === 'string') {
        texts.push(item.text)
        json ??= parseObject(item.text)
      }
    }
    return [{ toolUseId: result.toolUseId, status: result.status ?? 'success', text: texts.join('\n'), json }]
  })
}

function promptOf(message: DemoMessage): string {
  return message.content
    .flatMap((block) =>
      'text' in block && typeof block.text === 'string' && !DELIVERED_RESULT.test(block.text)
        ? [block.text]
        : [],
    )
    .join('\n')
    .trim()
}

/** The newest prompt of the conversation (a user's, or a continuation's), before any tool result. */
function lastPrompt(messages: readonly DemoMessage[]): string {
  for (let index = messages.length - 1; index >= 0; index -= 1) {
    const message = messages[index] as DemoMessage
    if (message.role !== 'user') continue
    const text = promptOf(message)
    if (text !== '') return text
  }
  return ''
}

/** The name of the tool a result answers, from the assistant message that called it. */
function toolNameFor(messages: readonly DemoMessage[], toolUseId: string): string {
  for (let index = messages.length - 1; index >= 0; index -= 1) {
    for (const block of (messages[index] as DemoMessage).content) {
      if ('toolUse' in block && isRecord(block.toolUse) && block.toolUse.toolUseId === toolUseId)
        return String(block.toolUse.name)
    }
  }
  return 'the tool'
}

function reportToolResult(messages: readonly DemoMessage[], result: ToolResult): string {
  const tool = toolNameFor(messages, result.toolUseId)
  const json = result.json
  if (result.status === 'error') return `The tool ${tool} failed: ${firstLines(result.text)}`
  const started = tool.startsWith('start_') ? STARTED_TASK.exec(result.text)?.[1] : undefined
  const woken = CONTINUATION.exec(lastPrompt(messages))?.[1]
  const before = woken === undefined ? undefined : latestDeliveredResult(messages, woken)
  if (started !== undefined && before !== undefined) {
    return (
      `While you were away, ${reportDelivered(before)} As you asked, I started the next step: task ${started} ` +
      `(${tool.slice('start_'.length)}). Its result will arrive here too, and I will act on it when it does.`
    )
  }
  if (started !== undefined) {
    return (
      `Started task ${started} (${tool.slice('start_'.length)}). It runs in the background: its result ` +
      'will arrive in this conversation when it ends, even if you leave. Ask me "what is the status of my task" meanwhile.'
    )
  }
  if (tool === 'model_training' && json !== undefined) return `Training finished. ${describeScores(json)}`
  if (tool === 'check_task_status' && json !== undefined) return describeTask(json)
  if (tool === 'cancel_task' && json !== undefined)
    return `Task ${String(json.task_id)} is now ${String(json.status)}.`
  if (tool === 'list_tasks' && Array.isArray(json?.tasks)) {
    const tasks = json.tasks.filter(isRecord)
    if (tasks.length === 0) return 'You have no tasks.'
    return [`You have ${tasks.length} task(s):`, ...tasks.map((task) => `- ${describeTask(task)}`)].join('\n')
  }
  if (tool === 'get_task_results') {
    // An ended task: a head line, then the tool's own result; a running one: the task as JSON.
    const ended = ENDED_TASK.exec(result.text)
    if (ended?.[3] === 'completed' && json !== undefined)
      return `Task ${ended[1]} (${ended[2]}) completed. ${describeScores(json)}`
    if (ended) return firstLines(result.text)
    if (json !== undefined) return describeTask(json)
  }
  return `${tool} answered: ${firstLines(result.text)}`
}

function describeTask(task: Record<string, unknown>): string {
  const progress =
    typeof task.progress === 'number'
      ? ` at ${task.progress}${typeof task.total === 'number' ? `/${task.total}` : ''}`
      : ''
  const message = typeof task.status_message === 'string' ? ` (${task.status_message})` : ''
  return `Task ${String(task.task_id)} (${String(task.tool)}) is ${String(task.status)}${progress}${message}.`
}

/** The scores of a training result, every number exactly as the tool returned it. */
function describeScores(result: Record<string, unknown>): string {
  const parts: string[] = []
  const add = (label: string, key: string) => {
    if (result[key] !== undefined) parts.push(`${label} ${String(result[key])}`)
  }
  add('test accuracy', 'test_accuracy')
  add('train accuracy', 'train_accuracy')
  add('test loss', 'test_loss')
  add('final loss', 'final_loss')
  add('epochs', 'epochs')
  const model = typeof result.model_name === 'string' ? `Model ${result.model_name}: ` : ''
  if (parts.length === 0) return `Result: ${firstLines(JSON.stringify(result))}`
  const artifact = typeof result.artifact_path === 'string' ? ` Saved at ${result.artifact_path}.` : ''
  return `${model}${parts.join(', ')}.${artifact}`
}

interface DeliveredResult {
  readonly taskId: string
  readonly tool: string
  readonly status: string
  readonly text: string
}

/** The newest task result an MCP server wrote into the conversation (the one asked for, if named). */
function latestDeliveredResult(
  messages: readonly DemoMessage[],
  taskId: string | undefined,
): DeliveredResult | undefined {
  for (let index = messages.length - 1; index >= 0; index -= 1) {
    const message = messages[index] as DemoMessage
    if (message.role !== 'user') continue
    for (const block of message.content) {
      if (!('text' in block) || typeof block.text !== 'string') continue
      const match = DELIVERED_RESULT.exec(block.text)
      if (match && (taskId === undefined || match[1] === taskId)) {
        return {
          taskId: match[1] as string,
          tool: match[2] as string,
          status: match[3] as string,
          text: match[4] as string,
        }
      }
    }
  }
  return undefined
}

/** Every task result an MCP server wrote into the conversation, oldest first, each task once. */
function deliveredResults(messages: readonly DemoMessage[]): DeliveredResult[] {
  const seen = new Map<string, DeliveredResult>()
  for (const message of messages) {
    if (message.role !== 'user') continue
    for (const block of message.content) {
      if (!('text' in block) || typeof block.text !== 'string') continue
      const match = DELIVERED_RESULT.exec(block.text)
      if (match)
        seen.set(match[1] as string, {
          taskId: match[1] as string,
          tool: match[2] as string,
          status: match[3] as string,
          text: match[4] as string,
        })
    }
  }
  return [...seen.values()]
}

function reportDelivered(result: DeliveredResult): string {
  const head = `your task ${result.taskId} (${result.tool}) ${result.status}; its result arrived in this conversation.`
  const json = parseObject(result.text)
  if (result.status === 'completed' && json !== undefined && result.tool === 'evaluate_model')
    return `${head} ${describeEvaluation(json)}`
  if (result.status === 'completed' && json !== undefined) return `${head} ${describeScores(json)}`
  return `${head} ${firstLines(result.text)}`
}

/** The id of the newest task named in the conversation: a start's answer or a delivered result. */
function latestTaskId(messages: readonly DemoMessage[]): string | undefined {
  for (let index = messages.length - 1; index >= 0; index -= 1) {
    const message = messages[index] as DemoMessage
    for (let at = message.content.length - 1; at >= 0; at -= 1) {
      const block = message.content[at] as DemoContentBlock
      if ('toolResult' in block) {
        const [result] = toolResultsOf({ role: 'user', content: [block] })
        const id = STARTED_TASK.exec(result?.text ?? '')?.[1] ?? result?.json?.task_id
        if (typeof id === 'string') return id
      }
      if ('text' in block && typeof block.text === 'string') {
        const delivered = DELIVERED_RESULT.exec(block.text)
        if (delivered?.[1]) return delivered[1]
      }
    }
  }
  return undefined
}

function parseObject(text: string): Record<string, unknown> | undefined {
  const start = text.indexOf('{')
  if (start === -1) return undefined
  try {
    const value: unknown = JSON.parse(text.slice(start))
    return isRecord(value) ? value : undefined
  } catch {
    return undefined
  }
}

function upperFirst(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1)
}

function firstLines(text: string): string {
  const lines = text.trim().split('\n')
  return lines.length > 8 ? `${lines.slice(0, 8).join('\n')}\n...` : lines.join('\n')
}
