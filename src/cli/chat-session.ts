/**
 * What `longrun chat` does: an interactive conversation on the same path as `longrun invoke`
 * (SigV4 through the AWS SDK, or a bearer token): answers stream as they come, each running tool
 * gets a progress bar, started tasks show their ids. While the chat waits at the prompt it reads
 * what is new in the session's memory: when a background task's result lands, a notice says so,
 * and when the agent acts on it on its own (a continuation turn, marked so in memory), its tool
 * calls and answer are shown under a `[while you were away]` heading. Nothing is shown in the middle
 * of a turn: what is read meanwhile waits for the prompt. Ctrl-C stops watching an answer (the
 * runtime finishes the turn and stores it); Ctrl-C at the prompt (or twice in a row) exits.
 */
import { clearLine, createInterface, cursorTo, type Interface } from 'node:readline'
import type { BedrockAgentCoreClient } from '@aws-sdk/client-bedrock-agentcore'
import { decodeJwt } from 'jose'
import { loadEnvironment } from '../config.ts'
import { ConsoleError } from '../console/console-error.ts'
import { type TimelineItem, TimelineReader } from '../console/timeline-reader.ts'
import { DELIVERED_RESULT } from '../memory/session-timeline.ts'
import { DEFAULT_ACTOR_ID } from '../runtime/caller-identity.ts'
import { pendingInterruptIdsIn } from '../runtime/errors.ts'
import { memorySessionIdFor } from '../runtime/session-ids.ts'
import { parseRuntimeStream, type RuntimeInterrupt } from '../runtime/stream-events.ts'
import { clientFor } from './agentcore-client.ts'
import type { ConversationFlags } from './conversation-options.ts'
import { answerValue, continuationTag, InvocationDisplay } from './invocation-display.ts'
import { invokerFor } from './invoker-for.ts'
import { rememberSession, resolveConversation } from './remembered-sessions.ts'
import type { RuntimeInvoker } from '../runtime-client/index.ts'

/** How often, while the chat waits at the prompt, the session's memory is read for what is new. */
const ARRIVAL_CHECK_MS = 2000
/**
 * How far below the newest event seen a read still looks for events stamped late (a task's result
 * is stamped with the task's end, and its delivery may have been retried).
 */
const LATE_STAMP_MS = 60_000
/** A tool call or result of a continuation is shown on one line of at most this many characters. */
const TOOL_LINE = 160
/** Said when a turn is refused because the session has one under way (a continuation, say). */
const SESSION_BUSY_HINT =
  '(a turn of this session is under way, perhaps the agent acting on a finished task: it shows here when it ends; send your line again then)\n'
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
  /** Reads the session's memory, what is new since the last read (none: no memory to read). */
  readonly #reader: TimelineReader | undefined
  #cursor: string | undefined
  /** Timeline entries already read (shown, or there before the chat began). */
  readonly #seen = new Set<string>()
  /** True once a read succeeded: what the session held before it is not news, and is not shown. */
  #primed = false
  /** Entries read and not yet shown (read while a turn was under way, or not yet printed). */
  #unshown: TimelineItem[] = []
  /** The read under way, if any: reads never overlap. */
  #reading: Promise<void> | undefined
  /** The continuation whose heading was printed last: its later entries go under it. */
  #heading: string | undefined
  #answer: AbortController | undefined
  #lastInterrupt = 0
  /** Questions the paused turn asked: the next line typed is the answer to them. */
  #questions: RuntimeInterrupt[] = []

  constructor(config: ChatSessionConfig) {
    this.#config = config
    const { memory } = config
    this.#reader =
      memory === undefined
        ? undefined
        : new TimelineReader({ client: memory.client, memoryId: memory.memoryId, lookbackMs: LATE_STAMP_MS })
  }

  async run(): Promise<number> {
    const { sessionId, actorLabel } = this.#config
    process.stderr.write(
      `session ${sessionId} (actor ${actorLabel}); Ctrl-C stops watching an answer, Ctrl-C at the prompt exits\n`,
    )
    await this.#read()
    const rl = createInterface({ input: process.stdin, output: process.stdout, prompt: 'you> ' })
    let isClosed = false
    const closed = new Promise<void>((resolve) =>
      rl.once('close', () => {
        isClosed = true
        resolve()
      }),
    )
    /** True while the chat waits at the prompt: no turn under way, not closed. */
    const idle = () => !isClosed && this.#answer === undefined
    /** A prompt, unless the chat is over (a turn or a read may end after Ctrl-C closed it). */
    const prompt = (keepLine = false) => {
      if (!isClosed) rl.prompt(keepLine)
    }
    let turn: Promise<void> = Promise.resolve()
    rl.on('SIGINT', () => this.#interrupt(rl))
    // While at the prompt, the session is read now and then; what is new is shown above the prompt,
    // which is drawn again with what was being typed.
    const timer = setInterval(() => {
      if (!idle() || this.#reading !== undefined) return
      void this.#read().then(() => {
        if (idle() && this.#show('at prompt')) prompt(true)
      })
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
        // A read begun before the turn may predate its end: one more, begun after it.
        await this.#reading
        await this.#read()
        // A line typed meanwhile began another turn: what was read waits for its end.
        if (!idle()) return
        this.#heading = undefined
        this.#show('after turn')
        prompt()
      })
    })
    prompt()
    await closed
    clearInterval(timer)
    this.#answer?.abort()
    await turn
    await this.#reading
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
    if (code === 'SESSION_BUSY') process.stderr.write(SESSION_BUSY_HINT)
    if (code === 'INTERRUPT_NOT_FOUND') this.#questions = []
    const waiting = code === 'INTERRUPT_PENDING' ? pendingInterruptIdsIn(message) : []
    if (waiting.length === 0) return
    this.#questions = waiting.map((id) => ({ interrupt_id: id, name: 'pending' }))
    for (const id of waiting) process.stderr.write(`question ${id}: asked in an earlier turn\n`)
    process.stderr.write(WAITING_ON_ANSWER)
  }

  /**
   * Reads what the session's memory holds that was not read before, into the entries to show. A
   * failed read shows nothing (the next one tries again). Without a memory to read (a deployed
   * runtime whose memory id is not configured here), there is nothing to show.
   */
  #read(): Promise<void> {
    const reader = this.#reader
    const { memory } = this.#config
    if (reader === undefined || memory === undefined) return Promise.resolve()
    this.#reading ??= (async () => {
      try {
        const session = { actorId: memory.actorId, sessionId: memorySessionIdFor(this.#config.sessionId) }
        const page = await reader.read(session, this.#cursor)
        this.#cursor = page.cursor
        for (const item of page.items) {
          if (this.#seen.has(item.key)) continue
          this.#seen.add(item.key)
          if (this.#primed) this.#unshown.push(item)
        }
        this.#primed = true
      } catch (error) {
        // A cursor not taken: the next read is of the whole session (what was seen is not shown again).
        if (error instanceof ConsoleError && error.code === 'INVALID_REQUEST') this.#cursor = undefined
      } finally {
        this.#reading = undefined
      }
    })()
    return this.#reading
  }

  /**
   * Shows the entries read and not shown yet: a notice per task result that landed, and each
   * continuation (the agent acting on a finished task on its own) under a heading that says so,
   * its tool calls on stderr and its answer on stdout. `at prompt`: the prompt line is cleared
   * first (the caller draws it again). True when anything was shown.
   */
  #show(where: 'at prompt' | 'after turn'): boolean {
    const lines: { readonly out: 'stdout' | 'stderr'; readonly text: string }[] = []
    for (const item of this.#unshown.splice(0)) {
      const mark = item.continuation
      if (mark === undefined) {
        if (item.author !== 'task result') continue
        this.#heading = undefined
        const [, outcome] = DELIVERED_RESULT.exec(item.text) ?? []
        const task = /^Long-running task (\S+) \(tool (\S+)\)/.exec(item.text)
        lines.push({
          out: 'stderr',
          text: `notice: the result of task ${task?.[1] ?? '?'} (${task?.[2] ?? '?'}) arrived in this session: ${outcome ?? 'ended'}`,
        })
        continue
      }
      const key = `${item.taskId ?? '?'}/${mark.stopped ? 'stopped' : (mark.depth ?? '?')}`
      if (key !== this.#heading) {
        this.#heading = key
        const task = `task ${item.taskId ?? '?'} ended`
        lines.push({
          out: 'stderr',
          text: mark.stopped
            ? `${continuationTag(mark)} ${task}; a limit stopped the agent acting on its own until you reply`
            : `${continuationTag(mark)} ${task}; the agent carried on (continuation ${mark.depth ?? '?'})`,
        })
      }
      if (item.author === 'agent' && item.calls !== undefined)
        lines.push({ out: 'stderr', text: `-> ${oneLine(item.text.replace(/^calls /, ''), TOOL_LINE)}` })
      else if (item.author === 'tool')
        lines.push({ out: 'stderr', text: `<- ${oneLine(item.text, TOOL_LINE)}` })
      else if (item.author === 'agent') lines.push({ out: 'stdout', text: item.text.trimEnd() })
      // The runtime's opening message and the agent's state are the heading's and memory's business.
    }
    if (lines.length === 0) return false
    if (where === 'at prompt') {
      // The prompt (and what was typed after it) goes; the caller draws it again below.
      if (process.stdout.isTTY && process.env.TERM !== 'dumb') {
        cursorTo(process.stdout, 0)
        clearLine(process.stdout, 0)
      } else process.stdout.write('\n')
    }
    for (const line of lines) process[line.out].write(`${line.text}\n`)
    return true
  }
}

/** `text` on one line of at most `max` characters. */
function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim()
  return flat.length <= max ? flat : `${flat.slice(0, max - 3)}...`
}
