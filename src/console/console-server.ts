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
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { z } from 'zod'
import { defaultAllowedHosts, isHostAllowed } from '../shared/host-check.ts'
import { type Logger, silentLogger } from '../shared/logger.ts'
import { readLimitedBody } from '../shared/read-body.ts'
import { formatSseEvent } from '../runtime/index.ts'
import type { ConsoleApi, ConsoleScope } from './console-api.ts'
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
const ChatSchema = ScopeSchema.extend({ prompt: z.string().max(200_000) })
const CancelSchema = ScopeSchema.extend({ taskId: z.string().min(1).max(256) })
/** A timeline cursor: an opaque token the previous read gave (ids of the newest events in it). */
const Cursor = z.string().min(1).max(16_000)

/** The running console. */
export class ConsoleServer {
  readonly url: string
  readonly token: string
  readonly #server: Server

  private constructor(server: Server, url: string, token: string) {
    this.#server = server
    this.url = url
    this.token = token
  }

  /** The URL to open: the page, with the token in its fragment. */
  get openUrl(): string {
    return `${this.url}/#token=${this.token}`
  }

  static async start(config: ConsoleServerConfig): Promise<ConsoleServer> {
    const host = config.host ?? '127.0.0.1'
    const token = config.token ?? randomBytes(18).toString('base64url')
    const allowedHosts = defaultAllowedHosts(host)
    const logger = config.logger ?? silentLogger
    const server = createServer((req, res) => {
      handle(req, res, { ...config, token, allowedHosts }).catch((error: unknown) => {
        const failure = toConsoleError(error)
        if (failure.code === 'UNAVAILABLE')
          logger.log('warn', 'console request failed', { path: req.url, error: failure.message })
        if (res.headersSent) {
          res.end()
          return
        }
        sendJson(res, failure.status, { error: { code: failure.code, message: failure.message } })
      })
    })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(config.port ?? 8070, host, () => {
        server.off('error', reject)
        resolve()
      })
    })
    const { port } = server.address() as AddressInfo
    const shown = host.includes(':') ? `[${host}]` : host
    return new ConsoleServer(server, `http://${shown}:${port}`, token)
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections()
    await new Promise<void>((resolve) => this.#server.close(() => resolve()))
  }
}

interface Handling extends ConsoleServerConfig {
  readonly token: string
  readonly allowedHosts: readonly string[] | undefined
}

async function handle(req: IncomingMessage, res: ServerResponse, config: Handling): Promise<void> {
  for (const [name, value] of Object.entries(COMMON_HEADERS)) res.setHeader(name, value)
  if (!isHostAllowed(req, config.allowedHosts))
    throw new ConsoleError('FORBIDDEN_HOST', 'this console answers only its own loopback address')
  const url = new URL(req.url ?? '/', 'http://console')
  if (req.method === 'GET' && !url.pathname.startsWith('/api/')) return sendStatic(res, url.pathname)
  if (!url.pathname.startsWith('/api/')) throw new ConsoleError('NOT_FOUND', `no such page: ${url.pathname}`)
  authenticate(req, config.token)
  const { api } = config
  const route = `${req.method} ${url.pathname}`
  switch (route) {
    case 'GET /api/config':
      return sendJson(res, 200, {
        ...config.defaults,
        runtime: {
          controllable: api.runtimeControl !== undefined,
          running: api.runtimeControl?.running ?? true,
        },
      })
    case 'GET /api/sessions':
      return sendJson(res, 200, { sessions: await api.sessions(param(url, 'actorId')) })
    case 'GET /api/sessions/default': {
      const picked = await api.defaultSession(param(url, 'actorId'))
      return sendJson(res, 200, { sessionId: picked?.sessionId ?? null, reason: picked?.reason ?? 'none' })
    }
    case 'GET /api/tasks':
      return sendJson(res, 200, { tasks: await api.tasks(scopeOf(url)) })
    case 'GET /api/tasks/result':
      return sendJson(res, 200, await api.result(scopeOf(url), param(url, 'taskId')))
    case 'GET /api/timeline': {
      const { items, cursor, full } = await api.timeline(scopeOf(url), cursorOf(url))
      return sendJson(res, 200, { items, cursor, full })
    }
    case 'POST /api/tasks/cancel': {
      const body = await jsonBody(req, CancelSchema)
      return sendJson(res, 200, await api.cancel(body, body.taskId))
    }
    case 'POST /api/chat':
      return chat(req, res, api, await jsonBody(req, ChatSchema))
    case 'POST /api/runtime/stop':
    case 'POST /api/runtime/start': {
      const control = api.runtimeControl
      if (control === undefined)
        throw new ConsoleError('NOT_FOUND', 'this runtime is not the console’s to stop')
      if (url.pathname.endsWith('/stop')) await control.stop()
      else await control.start()
      return sendJson(res, 200, { running: control.running })
    }
    default:
      throw new ConsoleError('NOT_FOUND', `no such call: ${route}`)
  }
}

/** Relays one turn's events as they arrive; the turn stops if the page goes away. */
async function chat(
  req: IncomingMessage,
  res: ServerResponse,
  api: ConsoleApi,
  body: ConsoleScope & { prompt: string },
): Promise<void> {
  const gone = new AbortController()
  res.on('close', () => gone.abort())
  res.writeHead(200, { 'content-type': 'text/event-stream', ...API_HEADERS })
  res.flushHeaders()
  try {
    for await (const event of api.chat(body, body.prompt, gone.signal)) {
      if (gone.signal.aborted) break
      res.write(formatSseEvent(event))
    }
  } catch (error) {
    // A stream cut mid-way (the runtime stopped, a bad frame) ends with an error the page shows.
    const failure = toConsoleError(error)
    if (!gone.signal.aborted)
      res.write(formatSseEvent({ type: 'error', code: failure.code, message: failure.message }))
  }
  res.end()
}

function authenticate(req: IncomingMessage, token: string): void {
  const given = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? ''
  const a = Buffer.from(given)
  const b = Buffer.from(token)
  if (a.length !== b.length || !timingSafeEqual(a, b))
    throw new ConsoleError(
      'UNAUTHENTICATED',
      'open the console with the URL longrun dev printed (it holds the token)',
    )
}

function param(url: URL, name: string): string {
  const value = url.searchParams.get(name)
  const parsed = Id.min(1).safeParse(value)
  if (!parsed.success) throw new ConsoleError('INVALID_REQUEST', `${name}: give one (at most 256 characters)`)
  return parsed.data
}

function cursorOf(url: URL): string | undefined {
  const value = url.searchParams.get('cursor')
  if (value === null) return undefined
  const parsed = Cursor.safeParse(value)
  if (!parsed.success)
    throw new ConsoleError('INVALID_REQUEST', 'cursor: give the one the previous read gave')
  return parsed.data
}

function scopeOf(url: URL): ConsoleScope {
  return { actorId: param(url, 'actorId'), sessionId: param(url, 'sessionId') }
}

async function jsonBody<T>(req: IncomingMessage, schema: z.ZodType<T>): Promise<T> {
  const raw = await readLimitedBody(req, MAX_BODY_BYTES)
  if (raw === undefined)
    throw new ConsoleError('INVALID_REQUEST', `the body must be at most ${MAX_BODY_BYTES} bytes`)
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
async function sendStatic(res: ServerResponse, pathname: string): Promise<void> {
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
  res.writeHead(200, {
    'content-type': found.type,
    'cache-control': 'no-cache',
    ...(pathname === '/' && { 'content-security-policy': pagePolicy(body.toString('utf8')) }),
  })
  res.end(body)
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', ...API_HEADERS })
  res.end(JSON.stringify(body))
}
