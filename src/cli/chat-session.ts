/**
 * What `longrun chat` does: an interactive conversation on the same path as `longrun invoke`
 * (SigV4 through the AWS SDK, or a bearer token): answers stream as they come, each running tool
 * gets a progress bar, started tasks show their ids, and when a background task's result lands in
 * the session between turns, a notice says so. Ctrl-C stops watching an answer (the runtime
 * finishes the turn and stores it); Ctrl-C at the prompt (or twice in a row) exits.
 */
import { createInterface, type Interface } from 'node:readline'
import type { BedrockAgentCoreClient } from '@aws-sdk/client-bedrock-agentcore'
import { decodeJwt } from 'jose'
import { loadEnvironment } from '../config.ts'
import { listSessionEvents } from '../memory/session-events.ts'
import { DELIVERED_RESULT, timelineOf } from '../memory/session-timeline.ts'
import { DEFAULT_ACTOR_ID } from '../runtime/caller-identity.ts'
import { pendingInterruptIdsIn } from '../runtime/errors.ts'
import { memorySessionIdFor } from '../runtime/session-ids.ts'
import { parseRuntimeStream, type RuntimeInterrupt } from '../runtime/stream-events.ts'
import { clientFor } from './agentcore-client.ts'
import type { ConversationFlags } from './conversation-options.ts'
import { answerValue, InvocationDisplay } from './invocation-display.ts'
import { invokerFor } from './invoker-for.ts'
import { rememberSession, resolveConversation } from './remembered-sessions.ts'
import type { RuntimeInvoker } from '../runtime-client/index.ts'

/** How often the session is checked for results that arrived while waiting at the prompt. */
const ARRIVAL_CHECK_MS = 2000
/** Said when the session's turn waits on questions: the next line typed answers them. */
const WAITING_ON_ANSWER = '(the turn waits on your answer: type yes to approve, anything else refuses)\n'
/** Two Ctrl-C within this long exit, even while an answer is written. */
const DOUBLE_INTERRUPT_MS = 1500
/** What Ctrl-C during an answer does, said in one line (the runtime's default disconnect policy is `finish`). */
export const STOPPED_WATCHING =
  'stopped watching: the turn goes on in the runtime and its answer is stored in the session (Ctrl-C again to exit)'

/** Runs the chat until the user leaves; resolves with the exit code. */
export async function runChat(options: ConversationFlags): Promise<number> {
  const env = loadEnvironment()
  const conversation = await resolveConversation(env, options)
  const { target, arn, key, sessionId } = conversation
  // A runtime that verifies bearer tokens takes the token's subject as the actor, and refuses a
  // payload naming another: with a token, an actor is named only when --actor asks for one.
  const bearer = target.bearerToken
  const namedActor = bearer === undefined ? (conversation.actorId ?? DEFAULT_ACTOR_ID) : options.actor
  await rememberSession(target.dataDir, key, { sessionId, actorId: namedActor })
  const actor =
    namedActor !== undefined
      ? { id: namedActor, label: namedActor }
      : { id: subjectOf(bearer?.value ?? ''), label: "the bearer token's subject" }
  const invoker = await invokerFor(target)
  // Task results are read from the memory when it and the actor are known (the local stack's, or MEMORY_ID).
  const memory =
    target.memoryId === undefined || actor.id === undefined
      ? undefined
      : { client: clientFor(target), memoryId: target.memoryId, actorId: actor.id }
  const chat = new ChatSession({
    invoker,
    memory,
    arn,
    sessionId,
    actorId: namedActor,
    actorLabel: actor.label,
  })
  try {
    return await chat.run()
  } finally {
    invoker.close()
    memory?.client.destroy()
  }
}

/** The subject of a JWT, read without verifying it (the runtime verifies it): whose memory to read. */
function subjectOf(token: string): string | undefined {
  try {
    const { sub } = decodeJwt(token)
    return typeof sub === 'string' && sub !== '' ? sub : undefined
  } catch {
    return undefined
  }
}

interface ChatSessionConfig {
  readonly invoker: RuntimeInvoker
  readonly memory:
    | { readonly client: BedrockAgentCoreClient; readonly memoryId: string; readonly actorId: string }
    | undefined
  readonly arn: string
  readonly sessionId: string
  /** The actor named in each payload (none: the runtime takes the bearer token's subject). */
  readonly actorId: string | undefined
  /** Who the chat is as, in words. */
  readonly actorLabel: string
}

/** One terminal conversation: the prompt loop, the running answer, and the arrival notices. */
class ChatSession {
  readonly #config: ChatSessionConfig
  /** Task results already in the session (announced, or there before the chat began). */
  readonly #seen = new Set<string>()
  #answer: AbortController | undefined
  #lastInterrupt = 0
  /** Questions the paused turn asked: the next line typed is the answer to them. */
  #questions: RuntimeInterrupt[] = []

  constructor(config: ChatSessionConfig) {
    this.#config = config
  }

  async run(): Promise<number> {
    const { sessionId, actorLabel } = this.#config
    process.stderr.write(
      `session ${sessionId} (actor ${actorLabel}); Ctrl-C stops watching an answer, Ctrl-C at the prompt exits\n`,
    )
    await this.#arrivals(false)
    const rl = createInterface({ input: process.stdin, output: process.stdout, prompt: 'you> ' })
    let isClosed = false
    const closed = new Promise<void>((resolve) =>
      rl.once('close', () => {
        isClosed = true
        resolve()
      }),
    )
    /** A prompt, unless the chat is over (a turn or a check may end after Ctrl-C closed it). */
    const prompt = (keepLine = false) => {
      if (!isClosed) rl.prompt(keepLine)
    }
    let turn: Promise<void> = Promise.resolve()
    rl.on('SIGINT', () => this.#interrupt(rl))
    const timer = setInterval(() => {
      if (this.#answer === undefined) void this.#arrivals(true).then((any) => any && prompt(true))
    }, ARRIVAL_CHECK_MS)
    timer.unref()
    // The terminal stays read while an answer is written (that is how Ctrl-C reaches it); a line
    // typed meanwhile is not sent, and the chat says so.
    rl.on('line', (line) => {
      const text = line.trim()
      if (this.#answer !== undefined) {
        process.stderr.write('(still answering: this line was not sent; Ctrl-C stops watching the answer)\n')
        return
      }
      if (text === '') return prompt()
      turn = this.#turn(text).finally(async () => {
        await this.#arrivals(true)
        prompt()
      })
    })
    prompt()
    await closed
    clearInterval(timer)
    this.#answer?.abort()
    await turn
    process.stdout.write('\n')
    return 0
  }

  /** Ctrl-C: stops watching the answer; at the prompt, or a second time in a row, exits. */
  #interrupt(rl: Interface): void {
    const now = Date.now()
    const twice = now - this.#lastInterrupt < DOUBLE_INTERRUPT_MS
    this.#lastInterrupt = now
    if (this.#answer !== undefined && !twice) {
      this.#answer.abort()
      process.stderr.write(`\n${STOPPED_WATCHING}\n`)
      return
    }
    rl.close()
  }

  /** One turn: the line is a prompt, or, while the session waits on questions, the answer to them. */
  async #turn(line: string): Promise<void> {
    const { invoker, arn, sessionId, actorId } = this.#config
    const stop = new AbortController()
    this.#answer = stop
    const display = new InvocationDisplay({ out: process.stdout, err: process.stderr })
    const asked = this.#questions
    const input =
      asked.length === 0
        ? { prompt: line }
        : {
            interruptResponses: asked.map((question) => ({
              interruptId: question.interrupt_id,
              response: answerValue(line),
            })),
          }
    try {
      const opened = await invoker.open({ runtimeArn: arn, sessionId, ...input, actorId }, stop.signal)
      for await (const event of parseRuntimeStream(opened.body)) {
        if (stop.signal.aborted) break
        display.show(event)
        if (event.type === 'error') this.#failed(event.code, event.message)
        if (event.type === 'done') {
          for (const task of event.tasks) process.stderr.write(`task: ${task.task_id} (${task.tool})\n`)
          this.#questions = event.interrupts ?? []
          if (this.#questions.length > 0) process.stderr.write(WAITING_ON_ANSWER)
        }
      }
    } catch (error) {
      const failure = invoker.failureOf(error)
      if (!stop.signal.aborted) {
        process.stderr.write(`error: ${failure.message}\n`)
        this.#failed(failure.code, failure.message)
      }
    } finally {
      display.close()
      this.#answer = undefined
    }
  }

  /**
   * What a failed turn (a refusal, or an `error` event in its stream) means for the next line. The
   * questions are gone (answered elsewhere): it is a prompt again. The session was paused before
   * this chat began (or by another client): the refusal names the questions, and it answers them.
   */
  #failed(code: string, message: string): void {
    if (code === 'INTERRUPT_NOT_FOUND') this.#questions = []
    const waiting = code === 'INTERRUPT_PENDING' ? pendingInterruptIdsIn(message) : []
    if (waiting.length === 0) return
    this.#questions = waiting.map((id) => ({ interrupt_id: id, name: 'pending' }))
    for (const id of waiting) process.stderr.write(`question ${id}: asked in an earlier turn\n`)
    process.stderr.write(WAITING_ON_ANSWER)
  }

  /**
   * Looks for task results that reached the session since the last look; says so for each when
   * `announce`. True when there was one. Without a memory to read (a deployed runtime whose
   * memory id is not configured here), there are no notices.
   */
  async #arrivals(announce: boolean): Promise<boolean> {
    const { memory } = this.#config
    if (memory === undefined) return false
    let events
    try {
      events = await listSessionEvents(memory.client, {
        memoryId: memory.memoryId,
        actorId: memory.actorId,
        sessionId: memorySessionIdFor(this.#config.sessionId),
      })
    } catch {
      return false
    }
    let any = false
    for (const entry of events.flatMap(timelineOf)) {
      if (entry.author !== 'task result' || this.#seen.has(entry.eventId)) continue
      this.#seen.add(entry.eventId)
      if (!announce) continue
      const [, outcome] = DELIVERED_RESULT.exec(entry.text) ?? []
      const task = /^Long-running task (\S+) \(tool (\S+)\)/.exec(entry.text)
      process.stderr.write(
        `\nnotice: the result of task ${task?.[1] ?? '?'} (${task?.[2] ?? '?'}) arrived in this session: ${outcome ?? 'ended'}\n`,
      )
      any = true
    }
    return any
  }
}
