/**
 * The developer console's HTTP server (`longrun dev` serves it on CONSOLE_PORT, loopback): the
 * page and its scripts (Preact and htm served from this install, nothing from a CDN), and a small
 * JSON API over {@link ConsoleApi}. Every API call carries the console's token (the page reads it
 * from the URL's fragment, which never reaches a server log), and on loopback a foreign Host or
 * Origin is refused (DNS rebinding). Every answer carries the headers of security-headers.ts: the
 * page runs under its Content-Security-Policy, and no API answer is cached.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { z } from 'zod'
import {
  createHttpApp,
  type ErrorAnswer,
  type ErrorMapping,
  type HttpApp,
  type HttpContext,
  hostCheck,
  HttpServer,
  jsonAnswer,
  MalformedRequestError,
  MethodNotAllowedError,
  nodeListener,
  onCallerGone,
  PayloadTooLargeError,
  readBody,
  RouteNotFoundError,
  SseWriter,
} from '../http/index.ts'
import { defaultAllowedHosts } from '../shared/host-check.ts'
import { type Logger, silentLogger } from '../shared/logger.ts'
import type { ChatInput, ConsoleApi, ConsoleScope } from './console-api.ts'
import { ConsoleError, toConsoleError } from './console-error.ts'
import { API_HEADERS, COMMON_HEADERS, pagePolicy } from './security-headers.ts'

/** Configuration of {@link ConsoleServer}. */
export interface ConsoleServerConfig {
  readonly api: ConsoleApi
  /** Default 8070; 0 picks a free port. */
  readonly port?: number
  /** Default 127.0.0.1: the console is for the machine it runs on. */
  readonly host?: string
  /** The token API calls must carry (default: a fresh random one, in the printed URL). */
  readonly token?: string
  /** What the page offers as the actor and memory it looks at. */
  readonly defaults: { readonly actorId: string; readonly memoryId: string; readonly runtimeArn: string }
  readonly logger?: Logger
}

const PAGE_DIR = fileURLToPath(new URL('./page/', import.meta.url))
/** The front-end modules the page imports, resolved in this install (its import map names them). */
const VENDOR: Readonly<Record<string, () => string>> = {
  '/vendor/preact.mjs': () => fileURLToPath(import.meta.resolve('preact')),
  '/vendor/preact-hooks.mjs': () => fileURLToPath(import.meta.resolve('preact/hooks')),
  '/vendor/htm.mjs': () => fileURLToPath(import.meta.resolve('htm')),
}
/** The page's own scripts and styles: a plain name, so no path leaves the page's folder. */
const ASSET = /^\/assets\/([a-z][a-z0-9-]*\.(js|css))$/
const TYPES = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
}

const MAX_BODY_BYTES = 1024 * 1024
/** An actor or session id as the page sends it (the services check them in full). */
const Id = z.string().max(256)
const ScopeSchema = z.object({ actorId: Id, sessionId: Id })
/** A turn: a prompt, or the answers to the questions the session's paused turn asked (not both). */
const ChatSchema = ScopeSchema.extend({
  prompt: z.string().max(200_000).optional(),
  interrupt_responses: z
    .array(z.strictObject({ interrupt_id: z.string().min(1).max(1_000), response: z.unknown() }))
    .min(1)
    .max(100)
    .optional(),
}).refine((body) => (body.prompt === undefined) !== (body.interrupt_responses === undefined), {
  message: 'give a prompt or interrupt_responses, not both',
  path: ['prompt'],
})
const CancelSchema = ScopeSchema.extend({ taskId: z.string().min(1).max(256) })
/** A timeline cursor: an opaque token the previous read gave (ids of the newest events in it). */
const Cursor = z.string().min(1).max(16_000)

/** The running console. */
export class ConsoleServer {
  readonly url: string
  readonly token: string
  readonly #server: HttpServer

  private constructor(server: HttpServer, token: string) {
    this.#server = server
    this.url = server.url
    this.token = token
  }

  /** The URL to open: the page, with the token in its fragment. */
  get openUrl(): string {
    return `${this.url}/#token=${this.token}`
  }

  static async start(config: ConsoleServerConfig): Promise<ConsoleServer> {
    const host = config.host ?? '127.0.0.1'
    const token = config.token ?? randomBytes(18).toString('base64url')
    const errors = consoleErrorMapping(config.logger ?? silentLogger)
    const app = consoleRoutes({ ...config, token, allowedHosts: defaultAllowedHosts(host) }, errors)
    const server = await HttpServer.listen({
      listener: nodeListener(app, errors),
      port: config.port ?? 8070,
      host,
    })
    return new ConsoleServer(server, token)
  }

  async close(): Promise<void> {
    await this.#server.close()
  }
}

interface Handling extends ConsoleServerConfig {
  readonly token: string
  readonly allowedHosts: readonly string[] | undefined
}

/** The console's app: security headers on every answer, the loopback check, the page, the token-checked API. */
function consoleRoutes(config: Handling, errors: ErrorMapping): HttpApp {
  const app = createHttpApp(errors)
  app.use(async (c, next) => {
    // Set on Node's response, so they go with every answer: JSON, files, the chat's stream, errors.
    for (const [name, value] of Object.entries(COMMON_HEADERS)) c.env.outgoing.setHeader(name, value)
    await next()
  })
  app.use(
    hostCheck(
      config.allowedHosts,
      () => new ConsoleError('FORBIDDEN_HOST', 'this console answers only its own loopback address'),
    ),
  )
  app.use('/api/*', async (c, next) => {
    authenticate(c.env.incoming.headers.authorization, config.token)
    await next()
  })
  const { api } = config
  app.get('/api/config', (c) =>
    answer(c, {
      ...config.defaults,
      runtime: {
        controllable: api.runtimeControl !== undefined,
        running: api.runtimeControl?.running ?? true,
      },
    }),
  )
  app.get('/api/sessions', async (c) => answer(c, { sessions: await api.sessions(param(c, 'actorId')) }))
  app.get('/api/sessions/default', async (c) => {
    const picked = await api.defaultSession(param(c, 'actorId'))
    return answer(c, { sessionId: picked?.sessionId ?? null, reason: picked?.reason ?? 'none' })
  })
  app.get('/api/tasks', async (c) => answer(c, { tasks: await api.tasks(scopeOf(c)) }))
  app.get('/api/tasks/result', async (c) => answer(c, await api.result(scopeOf(c), param(c, 'taskId'))))
  app.get('/api/timeline', async (c) => {
    const { items, cursor, full } = await api.timeline(scopeOf(c), cursorOf(c))
    return answer(c, { items, cursor, full })
  })
  app.post('/api/tasks/cancel', async (c) => {
    const body = await jsonBody(c, CancelSchema)
    return answer(c, await api.cancel(body, body.taskId))
  })
  app.post('/api/chat', async (c) => chat(c, api, await jsonBody(c, ChatSchema)))
  app.post('/api/runtime/:action{stop|start}', async (c) => {
    const control = api.runtimeControl
    if (control === undefined)
      throw new ConsoleError('NOT_FOUND', 'this runtime is not the console’s to stop')
    if (c.req.param('action') === 'stop') await control.stop()
    else await control.start()
    return answer(c, { running: control.running })
  })
  app.get('*', (c) => sendStatic(c))
  return app
}

/** The console's error mapping: whatever failed, as a ConsoleError (console-error.ts), never cached. */
function consoleErrorMapping(logger: Logger): ErrorMapping {
  return {
    logger,
    answer: (error, c) => {
      const failure = toConsoleError(consoleErrorOf(error, c?.req.path ?? ''))
      if (failure.code === 'UNAVAILABLE')
        logger.log('warn', 'console request failed', { path: c?.req.path, error: failure.message })
      return consoleErrorAnswer(failure)
    },
    // Not reached: toConsoleError words every failure.
    internal: () => consoleErrorAnswer(new ConsoleError('UNAVAILABLE', 'the console failed')),
  }
}

function consoleErrorAnswer(failure: ConsoleError): ErrorAnswer {
  return {
    status: failure.status,
    body: { error: { code: failure.code, message: failure.message } },
    headers: API_HEADERS,
  }
}

/** The HTTP layer's errors in the console's words; any other error as it is. */
function consoleErrorOf(error: unknown, path: string): unknown {
  if (error instanceof PayloadTooLargeError)
    return new ConsoleError('INVALID_REQUEST', `the body must be at most ${error.limitBytes} bytes`)
  if (error instanceof RouteNotFoundError || error instanceof MethodNotAllowedError)
    return path.startsWith('/api/')
      ? new ConsoleError('NOT_FOUND', `no such call: ${error.method} ${error.path}`)
      : new ConsoleError('NOT_FOUND', `no such page: ${error.path}`)
  if (error instanceof MalformedRequestError) return new ConsoleError('INVALID_REQUEST', error.message)
  return error
}

/** Relays one turn's events as they arrive; the turn stops if the page goes away. */
async function chat(c: HttpContext, api: ConsoleApi, body: z.infer<typeof ChatSchema>): Promise<Response> {
  const input: ChatInput =
    body.interrupt_responses === undefined
      ? { prompt: body.prompt ?? '' }
      : {
          interruptResponses: body.interrupt_responses.map((answer) => ({
            interruptId: answer.interrupt_id,
            response: answer.response,
          })),
        }
  const gone = new AbortController()
  const stream = SseWriter.open(c, API_HEADERS)
  onCallerGone(c, () => gone.abort())
  try {
    for await (const event of api.chat(body, input, gone.signal)) {
      if (gone.signal.aborted) break
      stream.send(event)
    }
  } catch (error) {
    // A stream cut mid-way (the runtime stopped, a bad frame) ends with an error the page shows
    // (sent only while the page is there).
    const failure = toConsoleError(error)
    stream.send({ type: 'error', code: failure.code, message: failure.message })
  }
  return stream.end()
}

function answer(c: HttpContext, body: unknown): Response {
  return jsonAnswer(c, 200, body, API_HEADERS)
}

function authenticate(authorization: string | undefined, token: string): void {
  const given = /^Bearer (.+)$/.exec(authorization ?? '')?.[1] ?? ''
  const a = Buffer.from(given)
  const b = Buffer.from(token)
  if (a.length !== b.length || !timingSafeEqual(a, b))
    throw new ConsoleError(
      'UNAUTHENTICATED',
      'open the console with the URL longrun dev printed (it holds the token)',
    )
}

function param(c: HttpContext, name: string): string {
  const parsed = Id.min(1).safeParse(c.req.query(name) ?? null)
  if (!parsed.success) throw new ConsoleError('INVALID_REQUEST', `${name}: give one (at most 256 characters)`)
  return parsed.data
}

function cursorOf(c: HttpContext): string | undefined {
  const value = c.req.query('cursor')
  if (value === undefined) return undefined
  const parsed = Cursor.safeParse(value)
  if (!parsed.success)
    throw new ConsoleError('INVALID_REQUEST', 'cursor: give the one the previous read gave')
  return parsed.data
}

function scopeOf(c: HttpContext): ConsoleScope {
  return { actorId: param(c, 'actorId'), sessionId: param(c, 'sessionId') }
}

async function jsonBody<T>(c: HttpContext, schema: z.ZodType<T>): Promise<T> {
  const raw = await readBody(c.env.incoming, MAX_BODY_BYTES)
  let value: unknown
  try {
    value = JSON.parse(raw.toString('utf8'))
  } catch {
    throw new ConsoleError('INVALID_REQUEST', 'the body is not JSON')
  }
  const parsed = schema.safeParse(value)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw new ConsoleError(
      'INVALID_REQUEST',
      `${issue?.path.join('.') ?? 'body'}: ${issue?.message ?? 'invalid'}`,
    )
  }
  return parsed.data
}

/** The page, its own scripts and styles, and the vendor modules; the page under its policy. */
async function sendStatic(c: HttpContext): Promise<Response> {
  const pathname = c.req.path
  if (pathname.startsWith('/api/')) throw new RouteNotFoundError(c.req.method, pathname)
  const vendor = VENDOR[pathname]
  const asset = ASSET.exec(pathname)
  const found =
    pathname === '/'
      ? { file: `${PAGE_DIR}index.html`, type: TYPES.html }
      : vendor !== undefined
        ? { file: vendor(), type: TYPES.js }
        : asset !== null
          ? { file: `${PAGE_DIR}${asset[1]}`, type: TYPES[asset[2] as 'js' | 'css'] }
          : undefined
  if (found === undefined) throw new ConsoleError('NOT_FOUND', `no such page: ${pathname}`)
  const body = await readFile(found.file).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') throw new ConsoleError('NOT_FOUND', `no such page: ${pathname}`)
    throw error
  })
  return c.body(new Uint8Array(body.buffer, body.byteOffset, body.byteLength), 200, {
    'content-type': found.type,
    'cache-control': 'no-cache',
    ...(pathname === '/' && { 'content-security-policy': pagePolicy(body.toString('utf8')) }),
  })
}
