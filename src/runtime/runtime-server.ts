/**
 * The AgentCore Runtime HTTP contract: `POST /invocations` (JSON, or `text/event-stream` when the
 * caller accepts it) and `GET /ping`. A thin server of our own rather than the official
 * `bedrock-agentcore` app (0.4.4), which cannot listen on port 0, report its address or be closed,
 * exits the process when listen fails, reports Healthy from an async ping handler, and ends an SSE
 * stream empty when the handler fails. This one checks every request before the agent is built,
 * reports HealthyBusy while turns run, finishes a turn whose caller went away, and drains on close.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { SpanKind } from '@opentelemetry/api'
import { BrowserGuard } from '../shared/browser-guard.ts'
import { HealthStatus } from '../shared/health-status.ts'
import { inSpan, traceCarrierOf, withMemoryCallCount } from '../telemetry/index.ts'
import { type Logger, silentLogger } from '../shared/logger.ts'
import { readLimitedBody, RequestAbortedError } from '../shared/read-body.ts'
import { newRuntimeSessionId } from '../shared/runtime-session-id.ts'
import { type CallerResolver, createCallerResolver } from './caller-identity.ts'
import { type DisconnectPolicy, RUNTIME_DEFAULTS } from './runtime-defaults.ts'
import { errorBody, httpStatusOf, RuntimeError } from './errors.ts'
import type { InvocationHandler, ResolvedInvocation } from './invocation-handler.ts'
import { parseInvocationPayload, runtimeSessionIdOf, SESSION_ID_HEADER } from './invocation-request.ts'
import { memorySessionIdFor } from './session-ids.ts'
import { SessionTurns } from './session-turns.ts'
import { formatSseEvent, type InvocationAnswer, type RuntimeStreamEvent } from './stream-events.ts'

/** How long /ping stays HealthyBusy after the last turn: two status changes a cycle, a second each. */
const HEALTHY_AFTER_IDLE_MS = 2_000

/** Configuration of {@link AgentRuntimeServer}. */
export interface AgentRuntimeServerConfig {
  /** Runs a checked invocation (the agent handler, or a stand-in in tests and benchmarks). */
  readonly handler: InvocationHandler
  /** Default 8080 (the AgentCore contract); 0 picks a free port. */
  readonly port?: number
  /** Default 0.0.0.0 (the container contract); `longrun dev` uses 127.0.0.1. */
  readonly host?: string
  /**
   * Host names a request may name (DNS-rebinding protection); default: the loopback names when
   * `host` is a loopback address, else any (behind AgentCore, Host is the platform's business).
   */
  readonly allowedHosts?: readonly string[]
  /**
   * Web origins besides the runtime's own (`https://app.example.com`) whose pages may call it;
   * default none. A request with any other Origin is refused, on every address.
   */
  readonly allowedOrigins?: readonly string[]
  /** The memory of invocations whose payload names none (MEMORY_ID). */
  readonly defaultMemoryId?: string | undefined
  /** Who is calling; default: the payload's actor_id, else `default`. */
  readonly callers?: CallerResolver
  readonly onDisconnect?: DisconnectPolicy
  readonly turnTimeoutMs?: number
  /** How long close() waits for running turns before aborting them. */
  readonly shutdownGraceMs?: number
  readonly maxPayloadBytes?: number
  readonly maxPromptChars?: number
  /** The `/ping` status; pass one to share it (the runtime's pending memory writes mark it busy too). */
  readonly health?: HealthStatus
  readonly logger?: Logger
}

interface RunningTurn {
  readonly controller: AbortController
  readonly done: Promise<void>
}

/** A listening runtime; `close()` drains it. */
export class AgentRuntimeServer {
  readonly health: HealthStatus
  readonly #http: Server
  readonly #config: AgentRuntimeServerConfig
  readonly #callers: CallerResolver
  readonly #logger: Logger
  readonly #guard: BrowserGuard
  readonly #turns = new Set<RunningTurn>()
  /** Conversations with a turn in progress: a second turn of one is refused (SESSION_BUSY). */
  readonly #sessionTurns = new SessionTurns()
  /** Accepted turns running now: what makes /ping report HealthyBusy. */
  #busyTurns = 0
  /** Reports Healthy once no turn has run for a while. */
  #idleTimer: NodeJS.Timeout | undefined
  #address: AddressInfo | undefined
  #closing = false

  private constructor(config: AgentRuntimeServerConfig) {
    this.#config = config
    this.health = config.health ?? new HealthStatus()
    this.#callers = config.callers ?? createCallerResolver(undefined)
    this.#logger = config.logger ?? silentLogger
    this.#guard = new BrowserGuard({
      listenHost: config.host ?? RUNTIME_DEFAULTS.host,
      allowedHosts: config.allowedHosts,
      allowedOrigins: config.allowedOrigins,
    })
    this.#http = createServer((request, response) => {
      this.#handle(request, response).catch((error: unknown) => {
        this.#logger.log('error', 'request failed', {
          error: error instanceof Error ? error.stack : String(error),
        })
        if (!response.headersSent) sendError(response, new RuntimeError('INTERNAL', 'the request failed'))
        else response.end()
      })
    })
    // Longer than any load balancer's idle timeout, so a reused connection is never cut under it.
    this.#http.keepAliveTimeout = 65_000
  }

  /** Listens and resolves once it does. A port in use rejects, and nothing else has changed. */
  static async start(config: AgentRuntimeServerConfig): Promise<AgentRuntimeServer> {
    const server = new AgentRuntimeServer(config)
    await new Promise<void>((resolve, reject) => {
      server.#http.once('error', reject)
      server.#http.listen(config.port ?? RUNTIME_DEFAULTS.port, config.host ?? RUNTIME_DEFAULTS.host, () => {
        server.#http.off('error', reject)
        resolve()
      })
    })
    server.#address = server.#http.address() as AddressInfo
    return server
  }

  /** The port it listens on. */
  get port(): number {
    return (this.#address as AddressInfo).port
  }

  /** Its base URL (a wildcard address is reported as loopback). */
  get url(): string {
    const host = this.#config.host ?? RUNTIME_DEFAULTS.host
    const urlHost =
      host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host
    return `http://${urlHost}:${this.port}`
  }

  /** Turns running now (a turn whose caller went away included). */
  get running(): number {
    return this.#turns.size
  }

  /**
   * Stops taking invocations (503 SHUTTING_DOWN), lets running turns finish within the grace
   * period, aborts the rest (each still writes what it said to memory), then closes every connection.
   */
  async close(): Promise<void> {
    this.#closing = true
    const closed = new Promise<void>((resolve) => this.#http.close(() => resolve()))
    const settled = Promise.all([...this.#turns].map((turn) => turn.done))
    const graceMs = this.#config.shutdownGraceMs ?? RUNTIME_DEFAULTS.shutdownGraceMs
    let timer: NodeJS.Timeout | undefined
    const graceOver = new Promise<'grace'>((resolve) => {
      timer = setTimeout(() => resolve('grace'), graceMs)
    })
    if ((await Promise.race([settled, graceOver])) === 'grace') {
      this.#logger.log('warn', 'grace period over: aborting running turns', { turns: this.#turns.size })
      for (const turn of this.#turns) {
        turn.controller.abort(
          new RuntimeError('SHUTTING_DOWN', 'the runtime is shutting down; the turn was stopped'),
        )
      }
      await Promise.all([...this.#turns].map((turn) => turn.done))
    }
    clearTimeout(timer)
    clearTimeout(this.#idleTimer)
    this.#http.closeAllConnections()
    await closed
  }

  /**
   * Healthy again only after no turn ran for HEALTHY_AFTER_IDLE_MS: every status change moves
   * `time_of_last_update` on by at least a second, so short turns in a row must not flip it faster
   * than that, or the time would run ahead of the clock.
   */
  #reportIdleSoon(): void {
    clearTimeout(this.#idleTimer)
    this.#idleTimer = setTimeout(() => {
      if (this.#busyTurns === 0) this.health.setBusy(false)
    }, HEALTHY_AFTER_IDLE_MS)
    this.#idleTimer.unref()
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    // A web page's request is refused before its body is read or anything is built.
    const refusal = this.#guard.check(request)
    if (refusal) {
      const error =
        refusal.reason === 'host'
          ? new RuntimeError('HOST_NOT_ALLOWED', refusal.message, { field: 'host' })
          : new RuntimeError('ORIGIN_NOT_ALLOWED', refusal.message, { field: 'origin' })
      this.#logger.log('warn', 'request refused: a web page may not call the runtime', {
        code: error.code,
        host: request.headers.host,
        origin: request.headers.origin,
      })
      return sendError(response, error, { connection: 'close' })
    }
    const path = new URL(request.url ?? '/', 'http://runtime').pathname
    if (path === '/ping') {
      if (request.method !== 'GET') return sendError(response, methodNotAllowed('GET'), { allow: 'GET' })
      return sendJson(response, 200, this.health.report())
    }
    if (path !== '/invocations') return sendError(response, new RuntimeError('NOT_FOUND', `no route ${path}`))
    if (request.method !== 'POST') return sendError(response, methodNotAllowed('POST'), { allow: 'POST' })
    if (this.#closing)
      return sendError(response, new RuntimeError('SHUTTING_DOWN', 'the runtime is shutting down; try again'))
    let finish: () => void = () => {}
    const turn: RunningTurn = {
      controller: new AbortController(),
      done: new Promise<void>((resolve) => {
        finish = resolve
      }),
    }
    // Counted from the moment the request is taken, so close() waits for it even while it is checked.
    this.#turns.add(turn)
    let busy = false
    try {
      await this.#invoke(request, response, turn.controller, () => {
        // Busy once the request is accepted (a refused one never flips /ping), until the turn ends.
        busy = true
        this.#busyTurns += 1
        clearTimeout(this.#idleTimer)
        this.health.setBusy(true)
      })
    } finally {
      this.#turns.delete(turn)
      if (busy) {
        this.#busyTurns -= 1
        if (this.#busyTurns === 0) this.#reportIdleSoon()
      }
      finish()
    }
  }

  async #invoke(
    request: IncomingMessage,
    response: ServerResponse,
    controller: AbortController,
    accepted: () => void,
  ): Promise<void> {
    const started = performance.now()
    // Watched from the start: a caller may leave while its request is still being read and checked.
    let callerGone = false
    const policy = this.#config.onDisconnect ?? RUNTIME_DEFAULTS.onDisconnect
    response.on('close', () => {
      if (response.writableFinished) return
      callerGone = true
      if (policy === 'abort')
        controller.abort(new RuntimeError('CANCELLED', 'the caller went away and the turn was aborted'))
    })
    let invocation: ResolvedInvocation
    try {
      invocation = await this.#resolve(request, controller.signal)
    } catch (error) {
      if (error instanceof RequestAbortedError) {
        this.#logger.log('info', 'caller hung up while sending its request; nothing was run', {
          code: error.code,
        })
        return
      }
      if (!(error instanceof RuntimeError)) throw error
      this.#logger.log('info', 'invocation refused', { code: error.code, field: error.field })
      // A body refused unread is not drained: close the connection rather than reuse it.
      return sendError(response, error, error.code === 'PAYLOAD_TOO_LARGE' ? { connection: 'close' } : {})
    }
    if (controller.signal.aborted) {
      this.#logger.log(
        'info',
        'caller went away before the turn began; nothing was run',
        logFields(invocation),
      )
      return
    }
    if (callerGone)
      this.#logger.log('info', 'caller went away; the turn runs to its end', logFields(invocation))
    const release = this.#sessionTurns.tryBegin(invocation)
    if (release === undefined) {
      this.#logger.log('info', 'turn refused: the session has a turn in progress', logFields(invocation))
      return sendError(
        response,
        new RuntimeError(
          'SESSION_BUSY',
          'this session has a turn in progress; try again when it ends (the answer of the running turn is stored in the session)',
        ),
        { [SESSION_ID_HEADER]: invocation.runtimeSessionId },
      )
    }
    try {
      await this.#runTurn(request, response, invocation, controller, started, () => callerGone, accepted)
    } finally {
      release()
    }
  }

  /** Runs an accepted invocation's turn and answers it (JSON or a stream); its session is held meanwhile. */
  async #runTurn(
    request: IncomingMessage,
    response: ServerResponse,
    invocation: ResolvedInvocation,
    controller: AbortController,
    started: number,
    isCallerGone: () => boolean,
    accepted: () => void,
  ): Promise<void> {
    const policy = this.#config.onDisconnect ?? RUNTIME_DEFAULTS.onDisconnect
    accepted()
    const streaming = String(request.headers.accept ?? '').includes('text/event-stream')
    const sessionHeader = { [SESSION_ID_HEADER]: invocation.runtimeSessionId }
    response.on('close', () => {
      if (!response.writableFinished && policy === 'finish')
        this.#logger.log('info', 'caller went away; the turn runs to its end', logFields(invocation))
    })
    const timeoutMs = this.#config.turnTimeoutMs ?? RUNTIME_DEFAULTS.turnTimeoutMs
    const timer = setTimeout(
      () =>
        controller.abort(
          new RuntimeError('TURN_TIMEOUT', `the turn ran longer than ${timeoutMs} ms and was stopped`),
        ),
      timeoutMs,
    )
    const emit = (event: RuntimeStreamEvent) => {
      if (streaming && !isCallerGone()) response.write(formatSseEvent(event))
    }
    if (streaming) {
      response.writeHead(200, {
        'content-type': 'text/event-stream',
        'cache-control': 'no-cache',
        'x-accel-buffering': 'no',
        ...sessionHeader,
      })
      response.flushHeaders()
    }
    let answer: InvocationAnswer | undefined
    let failure: RuntimeError | undefined
    try {
      // One trace per invocation (continuing the caller's, when it sent one): Strands' agent, model
      // and tool spans, and the MCP server's, nest under this span.
      answer = await inSpan(
        'invoke_agent_runtime',
        {
          kind: SpanKind.SERVER,
          parent: traceCarrierOf(request.headers),
          attributes: {
            'session.id': invocation.memorySessionId,
            'aws.agentcore.memory.id': invocation.memoryId,
            'longrun.invocation.streaming': streaming,
          },
        },
        () => withMemoryCallCount(() => this.#config.handler(invocation, emit)),
      )
    } catch (error) {
      failure =
        error instanceof RuntimeError
          ? error
          : new RuntimeError('INTERNAL', 'the invocation failed', { cause: error })
      if (failure.code === 'INTERNAL')
        this.#logger.log('error', 'invocation failed', { error: describeCause(failure) })
    } finally {
      clearTimeout(timer)
    }
    this.#logger.log(failure ? 'warn' : 'info', 'invocation', {
      ...logFields(invocation),
      ...(failure !== undefined && { code: failure.code }),
      tasks: answer?.tasks.length,
      ms: Math.round(performance.now() - started),
      caller_gone: isCallerGone() || undefined,
    })
    if (isCallerGone()) return
    if (streaming) {
      emit(
        answer
          ? { type: 'done', ...answer }
          : {
              type: 'error',
              code: (failure as RuntimeError).code,
              message: (failure as RuntimeError).message,
              error: (failure as RuntimeError).message,
            },
      )
      response.end()
      return
    }
    if (answer) sendJson(response, 200, answer, sessionHeader)
    else sendError(response, failure as RuntimeError, sessionHeader)
  }

  /** Checks the request and decides who, which memory and which session; nothing is built yet. */
  async #resolve(request: IncomingMessage, signal: AbortSignal): Promise<ResolvedInvocation> {
    const maxBytes = this.#config.maxPayloadBytes ?? RUNTIME_DEFAULTS.maxPayloadBytes
    const body = await readLimitedBody(request, maxBytes)
    if (body === undefined)
      throw new RuntimeError('PAYLOAD_TOO_LARGE', `the payload must be at most ${maxBytes} bytes`, {
        field: 'payload',
      })
    const payload = parseInvocationPayload(
      body,
      this.#config.maxPromptChars ?? RUNTIME_DEFAULTS.maxPromptChars,
    )
    const givenSession = runtimeSessionIdOf(request.headers[SESSION_ID_HEADER])
    const caller = await this.#callers(request.headers.authorization, payload.actorId)
    // An authenticated caller keeps to the runtime's memory: a payload may not point its conversation
    // (and the MCP server's deliveries) at any other memory the runtime's role can reach.
    if (
      caller.token !== undefined &&
      payload.memoryId !== undefined &&
      payload.memoryId !== this.#config.defaultMemoryId
    ) {
      throw new RuntimeError(
        'FORBIDDEN',
        "with caller authentication, memory_id may only name the runtime's MEMORY_ID",
        {
          field: 'memory_id',
        },
      )
    }
    const memoryId = payload.memoryId ?? this.#config.defaultMemoryId
    if (memoryId === undefined) {
      throw new RuntimeError(
        'MEMORY_ID_MISSING',
        'no memory to keep the conversation in: give memory_id in the payload or set MEMORY_ID on the runtime',
        { field: 'memory_id' },
      )
    }
    const runtimeSessionId = givenSession ?? newRuntimeSessionId()
    return {
      prompt: payload.prompt,
      runtimeSessionId,
      memoryId,
      actorId: caller.actorId,
      memorySessionId: memorySessionIdFor(runtimeSessionId),
      callerToken: caller.token,
      signal,
    }
  }
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

function methodNotAllowed(allowed: string): RuntimeError {
  return new RuntimeError('METHOD_NOT_ALLOWED', `use ${allowed}`)
}

function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body)
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  })
  response.end(text)
}

function sendError(
  response: ServerResponse,
  error: RuntimeError,
  headers: Record<string, string> = {},
): void {
  sendJson(response, httpStatusOf(error.code), errorBody(error), headers)
}
