/**
 * `longrun chat`: an interactive conversation on the same path as `longrun invoke` (InvokeAgentRuntime
 * through the local gateway, or AgentCore with --arn): answers stream as they come, each running
 * tool gets a progress bar, started tasks show their ids, and when a background task's result
 * lands in the session between turns, a notice says so. Ctrl-C stops the answer being written;
 * Ctrl-C at the prompt (or twice in a row) exits.
 */
import { createInterface, type Interface } from 'node:readline'
import type { BedrockAgentCoreClient } from '@aws-sdk/client-bedrock-agentcore'
import { Command } from 'commander'
import { type Environment, loadEnvironment } from '../config.ts'
import { DELIVERED_RESULT, listSessionEvents, timelineOf } from '../memory/index.ts'
import { DEFAULT_ACTOR_ID, memorySessionIdFor, parseRuntimeStream } from '../runtime/index.ts'
import { type CliTarget, clientFor } from './cli-target.ts'
import { InvocationDisplay } from './invocation-display.ts'
import { describeInvokeError, invocationCommand } from './runtime-invocation.ts'
import {
  type ConversationFlags,
  rememberSession,
  resolveConversation,
  withConversationOptions,
} from './remembered-sessions.ts'

type ChatOptions = ConversationFlags

/** How often the session is checked for results that arrived while waiting at the prompt. */
const ARRIVAL_CHECK_MS = 2000

export function chatCommand(): Command {
  return withConversationOptions(new Command('chat'))
    .description(
      'chat with the agent runtime in this terminal (the local stack, or a deployed runtime with --arn): ' +
        'streamed answers, a progress bar per running tool, task ids, and a notice when a task result arrives',
    )
    .addHelpText(
      'after',
      '\nCtrl-C stops the answer being written; Ctrl-C at the prompt exits (so does Ctrl-D).',
    )
    .action(async (options: ChatOptions) => {
      process.exitCode = await runChat(loadEnvironment(), options)
    })
}

async function runChat(env: Environment, options: ChatOptions): Promise<number> {
  const conversation = await resolveConversation(env, options)
  const { target, arn, key, sessionId } = conversation
  const actorId = conversation.actorId ?? DEFAULT_ACTOR_ID
  await rememberSession(env.LONGRUN_DATA_DIR, key, { sessionId, actorId })
  const client = clientFor(target)
  const chat = new ChatSession({ client, target, arn, sessionId, actorId })
  try {
    return await chat.run()
  } finally {
    client.destroy()
  }
}

interface ChatSessionConfig {
  readonly client: BedrockAgentCoreClient
  readonly target: CliTarget
  readonly arn: string
  readonly sessionId: string
  readonly actorId: string
}

/** One terminal conversation: the prompt loop, the running answer, and the arrival notices. */
class ChatSession {
  readonly #config: ChatSessionConfig
  /** Task results already in the session (announced, or there before the chat began). */
  readonly #seen = new Set<string>()
  #answer: AbortController | undefined
  #lastInterrupt = 0

  constructor(config: ChatSessionConfig) {
    this.#config = config
  }

  async run(): Promise<number> {
    const { sessionId, actorId } = this.#config
    process.stderr.write(
      `session ${sessionId} (actor ${actorId}); Ctrl-C stops an answer, Ctrl-C at the prompt exits\n`,
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
        process.stderr.write('(still answering: this line was not sent; Ctrl-C stops the answer)\n')
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

  /** Ctrl-C: stops the answer being written; at the prompt, or a second time in a row, exits. */
  #interrupt(rl: Interface): void {
    const now = Date.now()
    const twice = now - this.#lastInterrupt < 1500
    this.#lastInterrupt = now
    if (this.#answer !== undefined && !twice) {
      this.#answer.abort()
      process.stderr.write('\n(answer stopped; Ctrl-C again to exit)\n')
      return
    }
    rl.close()
  }

  async #turn(prompt: string): Promise<void> {
    const { client, arn, sessionId, actorId } = this.#config
    const stop = new AbortController()
    this.#answer = stop
    const display = new InvocationDisplay({ out: process.stdout, err: process.stderr })
    try {
      const output = await client.send(invocationCommand({ runtimeArn: arn, sessionId, prompt, actorId }), {
        abortSignal: stop.signal,
      })
      for await (const event of parseRuntimeStream(output.response as AsyncIterable<Uint8Array>)) {
        if (stop.signal.aborted) break
        display.show(event)
        if (event.type === 'done')
          for (const task of event.tasks) process.stderr.write(`task: ${task.task_id} (${task.tool})\n`)
      }
    } catch (error) {
      if (!stop.signal.aborted) process.stderr.write(`error: ${describeInvokeError(error)}\n`)
    } finally {
      display.close()
      this.#answer = undefined
    }
  }

  /**
   * Looks for task results that reached the session since the last look; says so for each when
   * `announce`. True when there was one. Without a memory to read (a deployed runtime whose
   * memory id is not configured here), there are no notices.
   */
  async #arrivals(announce: boolean): Promise<boolean> {
    const memoryId = this.#config.target.memoryId
    if (memoryId === undefined) return false
    let events
    try {
      events = await listSessionEvents(this.#config.client, {
        memoryId,
        actorId: this.#config.actorId,
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
