/** A minimal logger so servers run quietly in tests and loudly in production: `key=value | message` lines. */

/** Log levels. */
export type LogLevel = 'info' | 'warn' | 'error'

/** Receives log lines. */
export interface Logger {
  log(level: LogLevel, message: string, fields?: Record<string, unknown>): void
}

/** Formats `key=value | message`, values JSON-quoted only when they need it. */
export function formatLogLine(
  level: LogLevel,
  message: string,
  fields: Record<string, unknown> = {},
): string {
  const parts = [`level=${level}`]
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue
    const text = typeof value === 'string' ? value : JSON.stringify(value)
    parts.push(`${key}=${/^[\w.:/@#-]*$/.test(text) ? text : JSON.stringify(text)}`)
  }
  return `${parts.join(' ')} | ${message}`
}

/** Writes log lines to stderr (stdout is left for the URL a launcher reads). */
export const stderrLogger: Logger = {
  log(level, message, fields) {
    process.stderr.write(`${formatLogLine(level, message, fields)}\n`)
  },
}

/** Drops everything (tests, benchmarks). */
export const silentLogger: Logger = { log() {} }

/**
 * Says a repeated problem at most once every `everyMs` (a store out of reach fails on every tick;
 * one line every few seconds says so without flooding the log).
 */
export function throttledWarning(
  logger: Logger,
  message: string,
  options: {
    readonly everyMs?: number
    readonly clock?: () => number
    readonly fields?: Record<string, unknown>
  } = {},
): (error: unknown) => void {
  const everyMs = options.everyMs ?? 10_000
  const clock = options.clock ?? Date.now
  let last = Number.NEGATIVE_INFINITY
  return (error) => {
    const now = clock()
    if (now - last < everyMs) return
    last = now
    logger.log('warn', message, {
      ...options.fields,
      error: error instanceof Error ? error.message : String(error),
    })
  }
}
