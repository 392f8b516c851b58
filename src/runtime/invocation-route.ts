/**
 * `POST /invocations`: checks the request before anything is built (body within its limit, the
 * payload, the session id, the caller), holds the conversation for one turn at a time, runs the
 * turn under its time limit and the disconnect policy, and answers it as JSON or as a stream.
 */
import { SpanKind } from '@opentelemetry/api'
import {
  answeredDirectly,
  type HttpContext,
  jsonAnswer,
  onCallerGone,
  readBody,
  SseWriter,
} from '../http/index.ts'
import type { Logger } from '../shared/logger.ts'
import { newRuntimeSessionId } from '../shared/runtime-session-id.ts'
import { inSpan, traceCarrierOf, withMemoryCallCount } from '../telemetry/index.ts'
import type { CallerResolver } from './caller-identity.ts'
import { runtimeErrorOf, runtimeErrorResponse } from './error-answers.ts'
import { RuntimeError } from './errors.ts'
import type { InvocationHandler, ResolvedInvocation } from './invocation-handler.ts'
import { parseInvocationPayload, runtimeSessionIdOf, SESSION_ID_HEADER } from './invocation-request.ts'
import type { DisconnectPolicy } from './runtime-defaults.ts'
import type { RunningTurn, RunningTurns } from './running-turns.ts'
import { memorySessionIdFor } from './session-ids.ts'
import { SessionTurns } from './session-turns.ts'
import type { InvocationAnswer, RuntimeStreamEvent } from './stream-events.ts'

/** Configuration of {@link InvocationRoute}; the server fills in the defaults. */
export interface InvocationRouteConfig {
  readonly handler: InvocationHandler
  readonly callers: CallerResolver
  readonly defaultMemoryId: string | undefined
  readonly onDisconnect: DisconnectPolicy
  readonly turnTimeoutMs: number
  readonly maxPayloadBytes: number
  readonly maxPromptChars: number
  readonly turns: RunningTurns
  readonly logger: Logger
  /** True once the runtime is shutting down: new invocations are refused. */
  readonly isClosing: () => boolean
}

/** Whether the caller is still there to read the answer. */
interface Caller {
  gone: boolean
}

/** How a turn ended: its answer, or the failure the caller is told. */
type TurnOutcome = { readonly answer: InvocationAnswer } | { readonly failure: RuntimeError }

/** The invocation route of one runtime. */
export class InvocationRoute {
  readonly #config: InvocationRouteConfig
  /** Conversations with a turn in progress: a second turn of one is refused (SESSION_BUSY). */
  readonly #sessionTurns = new SessionTurns()

  constructor(config: InvocationRouteConfig) {
    this.#config = config
  }

  /** Answers one invocation; a refusal is thrown as a RuntimeError (or an HTTP layer error). */
  handle(c: HttpContext): Promise<Response> {
    if (this.#config.isClosing())
      throw new RuntimeError('SHUTTING_DOWN', 'the runtime is shutting down; try again')
    return this.#config.turns.run((turn, accept) => this.#invoke(c, turn, accept))
  }

  async #invoke(c: HttpContext, turn: RunningTurn, accept: () => void): Promise<Response> {
    const started = performance.now()
    // Watched from the start: a caller may leave while its request is still being read and checked.
    const caller = this.#watchCaller(c, turn)
    const invocation = await this.#resolve(c, turn.controller.signal)
    const { logger } = this.#config
    if (turn.controller.signal.aborted) {
      logger.log('info', 'caller went away before the turn began; nothing was run', logFields(invocation))
      return answeredDirectly()
    }
    if (caller.gone) logger.log('info', 'caller went away; the turn runs to its end', logFields(invocation))
    const release = this.#sessionTurns.tryBegin(invocation)
    if (release === undefined) {
      logger.log('info', 'turn refused: the session has a turn in progress', logFields(invocation))
      return runtimeErrorResponse(
        c,
        new RuntimeError(
          'SESSION_BUSY',
          'this session has a turn in progress; try again when it ends (the answer of the running turn is stored in the session)',
        ),
        sessionHeaderOf(invocation),
      )
    }
    try {
      // Busy once the request is accepted (a refused one never flips /ping), until the turn ends.
      accept()
      if (this.#config.onDisconnect === 'finish')
        onCallerGone(c, () =>
          logger.log('info', 'caller went away; the turn runs to its end', logFields(invocation)),
        )
      const streaming = String(c.env.incoming.headers.accept ?? '').includes('text/event-stream')
      return streaming
        ? await this.#answerStream(c, invocation, turn, started, caller)
        : await this.#answerJson(c, invocation, turn, started, caller)
    } finally {
      release()
    }
  }

  /** Marks the caller gone when it leaves, and aborts the turn then when the policy says so. */
  #watchCaller(c: HttpContext, turn: RunningTurn): Caller {
    const caller: Caller = { gone: false }
    onCallerGone(c, () => {
      caller.gone = true
      if (this.#config.onDisconnect === 'abort')
        turn.controller.abort(new RuntimeError('CANCELLED', 'the caller went away and the turn was aborted'))
    })
    return caller
  }

  async #answerJson(
    c: HttpContext,
    invocation: ResolvedInvocation,
    turn: RunningTurn,
    started: number,
    caller: Caller,
  ): Promise<Response> {
    const outcome = await this.#run(c, invocation, turn, false, () => {})
    this.#logOutcome(invocation, outcome, started, caller)
    if (caller.gone) return answeredDirectly()
    const headers = sessionHeaderOf(invocation)
    if ('answer' in outcome) return jsonAnswer(c, 200, outcome.answer, headers)
    return runtimeErrorResponse(c, outcome.failure, headers)
  }

  /** Streams the turn's events as they come, then `done` (or `error`); the stream opens at once. */
  async #answerStream(
    c: HttpContext,
    invocation: ResolvedInvocation,
    turn: RunningTurn,
    started: number,
    caller: Caller,
  ): Promise<Response> {
    const stream = SseWriter.open(c, sessionHeaderOf(invocation))
    const outcome = await this.#run(c, invocation, turn, true, (event) => stream.send(event))
    this.#logOutcome(invocation, outcome, started, caller)
    // (Not sent once the caller is gone: the writer drops it.)
    stream.send(
      'answer' in outcome
        ? { type: 'done', ...outcome.answer }
        : {
            type: 'error',
            code: outcome.failure.code,
            message: outcome.failure.message,
            error: outcome.failure.message,
          },
    )
    return stream.end()
  }

  /** Runs the handler under the turn's time limit, in the invocation's trace span. */
  async #run(
    c: HttpContext,
    invocation: ResolvedInvocation,
    turn: RunningTurn,
    streaming: boolean,
    emit: (event: RuntimeStreamEvent) => void,
  ): Promise<TurnOutcome> {
    const timeoutMs = this.#config.turnTimeoutMs
    const timer = setTimeout(
      () =>
        turn.controller.abort(
          new RuntimeError('TURN_TIMEOUT', `the turn ran longer than ${timeoutMs} ms and was stopped`),
        ),
      timeoutMs,
    )
    try {
      // One trace per invocation (continuing the caller's, when it sent one): Strands' agent, model
      // and tool spans, and the MCP server's, nest under this span.
      const answer = await inSpan(
        'invoke_agent_runtime',
        {
          kind: SpanKind.SERVER,
          parent: traceCarrierOf(c.env.incoming.headers),
          attributes: {
            'session.id': invocation.memorySessionId,
            'aws.agentcore.memory.id': invocation.memoryId,
            'longrun.invocation.streaming': streaming,
          },
        },
        () => withMemoryCallCount(() => this.#config.handler(invocation, emit)),
      )
      return { answer }
    } catch (error) {
      const failure =
        error instanceof RuntimeError
          ? error
          : new RuntimeError('INTERNAL', 'the invocation failed', { cause: error })
      if (failure.code === 'INTERNAL')
        this.#config.logger.log('error', 'invocation failed', { error: describeCause(failure) })
      return { failure }
    } finally {
      clearTimeout(timer)
    }
  }

  #logOutcome(invocation: ResolvedInvocation, outcome: TurnOutcome, started: number, caller: Caller): void {
    const failure = 'failure' in outcome ? outcome.failure : undefined
    this.#config.logger.log(failure ? 'warn' : 'info', 'invocation', {
      ...logFields(invocation),
      ...(failure !== undefined && { code: failure.code }),
      tasks: 'answer' in outcome ? outcome.answer.tasks.length : undefined,
      ms: Math.round(performance.now() - started),
      caller_gone: caller.gone || undefined,
    })
  }

  /** Checks the request and decides who, which memory and which session; nothing is built yet. */
  async #resolve(c: HttpContext, signal: AbortSignal): Promise<ResolvedInvocation> {
    try {
      return await this.#decide(c, signal)
    } catch (error) {
      const known = runtimeErrorOf(error)
      if (known !== undefined)
        this.#config.logger.log('info', 'invocation refused', { code: known.code, field: known.field })
      throw error
    }
  }

  async #decide(c: HttpContext, signal: AbortSignal): Promise<ResolvedInvocation> {
    const { headers } = c.env.incoming
    const body = await readBody(c.env.incoming, this.#config.maxPayloadBytes)
    const payload = parseInvocationPayload(body, this.#config.maxPromptChars)
    const givenSession = runtimeSessionIdOf(headers[SESSION_ID_HEADER])
    const caller = await this.#config.callers(
      headers.authorization,
      payload.actorId,
      payload.wake === undefined ? 'turn' : 'wake',
    )
    const memoryId = this.#memoryOf(payload.memoryId, caller.token !== undefined)
    const runtimeSessionId = givenSession ?? newRuntimeSessionId()
    return {
      prompt: payload.prompt,
      interruptResponses: payload.interruptResponses,
      wake: payload.wake,
      runtimeSessionId,
      memoryId,
      actorId: caller.actorId,
      memorySessionId: memorySessionIdFor(runtimeSessionId),
      callerToken: caller.token,
      signal,
    }
  }

  /** The memory the conversation is kept in: the payload's, else the runtime's MEMORY_ID. */
  #memoryOf(named: string | undefined, authenticated: boolean): string {
    const { defaultMemoryId } = this.#config
    // An authenticated caller keeps to the runtime's memory: a payload may not point its conversation
    // (and the MCP server's deliveries) at any other memory the runtime's role can reach.
    if (authenticated && named !== undefined && named !== defaultMemoryId) {
      throw new RuntimeError(
        'FORBIDDEN',
        "with caller authentication, memory_id may only name the runtime's MEMORY_ID",
        { field: 'memory_id' },
      )
    }
    const memoryId = named ?? defaultMemoryId
    if (memoryId === undefined) {
      throw new RuntimeError(
        'MEMORY_ID_MISSING',
        'no memory to keep the conversation in: give memory_id in the payload or set MEMORY_ID on the runtime',
        { field: 'memory_id' },
      )
    }
    return memoryId
  }
}

function sessionHeaderOf(invocation: ResolvedInvocation): Record<string, string> {
  return { [SESSION_ID_HEADER]: invocation.runtimeSessionId }
}

function logFields(invocation: ResolvedInvocation): Record<string, unknown> {
  return {
    session_id: invocation.memorySessionId,
    actor_id: invocation.actorId,
    memory_id: invocation.memoryId,
  }
}

function describeCause(error: Error): string {
  const cause = error.cause
  return cause instanceof Error ? (cause.stack ?? cause.message) : String(cause ?? error.message)
}
