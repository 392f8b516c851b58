/**
 * The Redis connection of the Redis backend, shared by its store and its BullMQ queues: opened
 * within a deadline (an unreachable Redis is a clear error naming REDIS_URL), errors while it is
 * away turned into BACKEND_UNAVAILABLE (retryable), and connection trouble said at most every 10 s.
 */
import { Redis, ReplyError } from 'ioredis'
import { type Logger, silentLogger, throttledWarning } from '../shared/logger.ts'
import { McpServerError } from './errors.ts'
import { MCP_SERVER_DEFAULTS } from './server-defaults.ts'

/** Turns a lost connection into BACKEND_UNAVAILABLE (retryable); Redis's own answers pass through. */
export function backendUnavailable(error: unknown, where: string): unknown {
  if (error instanceof ReplyError || error instanceof McpServerError) return error
  const reason = error instanceof Error ? error.message : String(error)
  return new McpServerError(
    'BACKEND_UNAVAILABLE',
    `Redis at ${where} is out of reach (${reason}): retry shortly`,
    {
      retryAfterMs: 1000,
      cause: error,
    },
  )
}

/** An open connection. */
export class RedisConnection {
  /** For commands of requests: they fail at once while Redis is away, so a caller hears it. */
  readonly commands: Redis
  /** REDIS_URL without its password, for messages. */
  readonly where: string
  readonly #duplicates: Redis[] = []
  /** Connection trouble, said at most every 10 s. */
  readonly warn: (error: unknown) => void

  private constructor(commands: Redis, where: string, logger: Logger) {
    this.commands = commands
    this.where = where
    this.warn = throttledWarning(
      logger,
      'Redis connection trouble; calls fail until it is back, work resumes then',
      { fields: { redis: where } },
    )
  }

  /**
   * Connects to `url`, waiting at most `connectTimeoutMs` (default 5 s). `password` is Redis AUTH's
   * (ElastiCache's AUTH token); a refused or missing one is INVALID_CONFIG, not worth a retry.
   */
  static async open(config: {
    readonly url: string
    readonly password?: string | undefined
    readonly connectTimeoutMs?: number | undefined
    readonly logger?: Logger | undefined
  }): Promise<RedisConnection> {
    const where = `REDIS_URL=${redacted(config.url)}`
    const timeoutMs = config.connectTimeoutMs ?? MCP_SERVER_DEFAULTS.redisConnectTimeoutMs
    const commands = new Redis(config.url, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: timeoutMs,
      retryStrategy: (times) => Math.min(times * 200, 2000),
      ...(config.password !== undefined && { password: config.password }),
    })
    // A refused password arrives as an 'error' event (the connection then closes), not as the
    // rejection of connect(): it is kept to say so.
    let refused: Error | undefined
    const noteRefusal = (error: Error) => {
      if (/^(NOAUTH|WRONGPASS)\b/.test(error.message)) refused = error
    }
    commands.on('error', noteRefusal)
    try {
      await Promise.race([
        commands.connect(),
        new Promise((_, reject) =>
          setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs).unref(),
        ),
      ])
      await commands.ping()
    } catch (error) {
      commands.disconnect()
      if (error instanceof Error) noteRefusal(error)
      if (refused !== undefined)
        throw new McpServerError(
          'INVALID_CONFIG',
          `Redis at ${where} wants the password it was set up with (REDIS_PASSWORD or REDIS_PASSWORD_SECRET_ARN): ${refused.message}`,
          { cause: refused },
        )
      const reason = error instanceof Error ? error.message : String(error)
      throw new McpServerError('BACKEND_UNAVAILABLE', `cannot reach Redis at ${where}: ${reason}`, {
        cause: error,
      })
    }
    commands.off('error', noteRefusal)
    commands.on('error', () => {})
    return new RedisConnection(commands, where, config.logger ?? silentLogger)
  }

  /**
   * A connection of its own that waits out an outage instead of failing (blocking commands of
   * BullMQ workers, subscriptions); closed with this one.
   */
  duplicate(): Redis {
    const connection = this.commands.duplicate({ enableOfflineQueue: true, maxRetriesPerRequest: null })
    connection.on('error', (error: Error) => this.warn(error))
    this.#duplicates.push(connection)
    return connection
  }

  /** Runs `work`, its connection errors turned into BACKEND_UNAVAILABLE. */
  async call<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work()
    } catch (error) {
      throw backendUnavailable(error, this.where)
    }
  }

  close(): void {
    for (const connection of this.#duplicates) connection.disconnect()
    this.commands.disconnect()
  }
}

/** The URL without its password, for messages. */
function redacted(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password !== '') parsed.password = '***'
    return parsed.toString()
  } catch {
    return '(not a URL)'
  }
}
