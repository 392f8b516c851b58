/**
 * What `longrun invoke` does: one invocation (SigV4 through the AWS SDK, or a bearer token),
 * streamed as it happens, continuing the session of the previous invoke unless told otherwise.
 * A runtime's error is printed once, in its own words, and the exit code is 1.
 */
import { loadEnvironment } from '../config.ts'
import {
  type InvocationAnswer,
  InvocationAnswerSchema,
  parseRuntimeStream,
} from '../runtime/stream-events.ts'
import { CliUsageError } from './cli-errors.ts'
import { answerValue, InvocationDisplay, questionText } from './invocation-display.ts'
import type { InvokeOptions } from './invoke-command.ts'
import { invokerFor } from './invoker-for.ts'
import { rememberSession, resolveConversation } from './remembered-sessions.ts'
import { type InterruptResponse, type OpenedInvocation, readAnswer } from '../runtime-client/index.ts'

/** Runs one invocation; resolves with the exit code (0 answered, 1 failed). */
export async function runInvoke(prompt: string | undefined, options: InvokeOptions): Promise<number> {
  const usage = () =>
    new CliUsageError(
      'give a prompt, or --answer <interruptId>=<answer> for each question of a paused turn (not both)',
    )
  const interruptResponses = options.answer?.map(
    (flag) =>
      parseAnswerFlag(flag) ??
      (() => {
        throw usage()
      })(),
  )
  if ((prompt === undefined) === (interruptResponses === undefined)) throw usage()
  const env = loadEnvironment()
  const { target, arn, key, sessionId, actorId } = await resolveConversation(env, options)
  const invoker = await invokerFor(target)
  try {
    const opened = await invoker.open({
      runtimeArn: arn,
      sessionId,
      prompt,
      interruptResponses,
      actorId,
      memoryId: options.memory,
      json: options.json === true,
    })
    await rememberSession(target.dataDir, key, { sessionId, actorId })
    const streamed = !options.json && opened.contentType.includes('text/event-stream')
    const answer = streamed ? await streamAnswer(opened) : await printJson(opened)
    if (answer === undefined) return 1
    process.stderr.write(`session: ${answer.session_id}\n`)
    for (const task of answer.tasks) process.stderr.write(`task:    ${task.task_id} (${task.tool})\n`)
    for (const interrupt of answer.interrupts ?? []) {
      // A stream showed the question as it came; a JSON answer shows it here.
      if (!streamed) process.stderr.write(`paused:  ${questionText(interrupt)}\n`)
      process.stderr.write(
        `         answer: longrun invoke --answer '${interrupt.interrupt_id}=yes'  (anything else refuses)\n`,
      )
    }
    return 0
  } catch (error) {
    process.stderr.write(`longrun invoke: ${invoker.failureOf(error).message}\n`)
    return 1
  } finally {
    invoker.close()
  }
}

/** `<interruptId>=<answer>`, split at the first `=` (ids hold none, answers may); undefined when malformed. */
function parseAnswerFlag(flag: string): InterruptResponse | undefined {
  const at = flag.indexOf('=')
  if (at <= 0 || at === flag.length - 1) return undefined
  return { interruptId: flag.slice(0, at), response: answerValue(flag.slice(at + 1)) }
}

/** Shows the stream; the answer of its `done` event, or undefined after an error event (already shown). */
async function streamAnswer(opened: OpenedInvocation): Promise<InvocationAnswer | undefined> {
  const display = new InvocationDisplay({ out: process.stdout, err: process.stderr })
  let answer: InvocationAnswer | undefined
  let failed = false
  try {
    for await (const event of parseRuntimeStream(opened.body)) {
      display.show(event)
      if (event.type === 'error') failed = true
      if (event.type === 'done') {
        const { type: _type, ...fields } = event
        answer = fields
      }
    }
  } finally {
    display.close()
  }
  if (answer === undefined && !failed)
    process.stderr.write('longrun invoke: UNEXPECTED_ANSWER: the stream ended without an answer\n')
  return answer
}

/** Prints a JSON answer as it came; undefined when it is not an answer. */
async function printJson(opened: OpenedInvocation): Promise<InvocationAnswer | undefined> {
  const text = await readAnswer(opened.body)
  process.stdout.write(`${text}\n`)
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return undefined
  }
  const parsed = InvocationAnswerSchema.safeParse(value)
  return parsed.success ? parsed.data : undefined
}
