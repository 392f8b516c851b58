/**
 * The MCP tool listings of one process. Listing costs an initialize and a tools/list round trip on
 * every invocation, for an answer that rarely changes; an invocation offers the tools listed before
 * instead and connects only when a tool is called. A listing is made again when the server says its
 * tools changed (`notifications/tools/list_changed`), when a tool call lists on its own connection
 * (which also finds a tool that is gone), after a call could not reach the server, and once it is
 * older than `maxAgeMs`, for servers that never say. Listings are kept per server URL and bearer token, so a caller is never offered a
 * listing made with another caller's token; the token itself is kept only as a hash.
 */
import { createHash } from 'node:crypto'
import type { ToolSpec } from '@strands-agents/sdk'
import { MCP_TOOL_LISTING_DEFAULTS } from './agent-defaults.ts'
import { AgentConfigError } from './errors.ts'

/** Configuration of {@link McpToolListings}. */
export interface McpToolListingsConfig {
  /** Age after which a listing is made again (default 60 s); 0 lists on every invocation. */
  readonly maxAgeMs?: number
  /** Listings kept; the least recently used goes first (default 1,000). */
  readonly maxEntries?: number
  /** Milliseconds, for tests of the age. */
  readonly clock?: () => number
}

interface Listing {
  readonly specs: readonly ToolSpec[]
  readonly listedAt: number
  /** Not to be offered again without listing (the server said its tools changed, or could not be reached). */
  readonly stale: boolean
}

/** Whose listing it is: the server and the bearer token that listed it. */
export function mcpListingKey(url: string, bearerToken: string | undefined): string {
  const token = bearerToken === undefined ? '-' : createHash('sha256').update(bearerToken).digest('base64url')
  return `${url} ${token}`
}

/** Tool specs listed by this process's invocations, by {@link mcpListingKey}. */
export class McpToolListings {
  readonly #entries = new Map<string, Listing>()
  readonly #maxAgeMs: number
  readonly #maxEntries: number
  readonly #clock: () => number

  constructor(config: McpToolListingsConfig = {}) {
    this.#maxAgeMs = checkCount('maxAgeMs', config.maxAgeMs ?? MCP_TOOL_LISTING_DEFAULTS.maxAgeMs, 0)
    this.#maxEntries = checkCount('maxEntries', config.maxEntries ?? MCP_TOOL_LISTING_DEFAULTS.maxEntries, 1)
    this.#clock = config.clock ?? Date.now
  }

  /** The specs to offer without listing, or undefined when the tools must be listed now. */
  current(key: string): readonly ToolSpec[] | undefined {
    const listing = this.#entries.get(key)
    if (listing === undefined || listing.stale) return undefined
    if (this.#clock() - listing.listedAt >= this.#maxAgeMs) return undefined
    this.#touch(key, listing)
    return listing.specs
  }

  /** The last specs listed for `key`, current or not: what is offered (as errors) while the server is down. */
  last(key: string): readonly ToolSpec[] {
    return this.#entries.get(key)?.specs ?? []
  }

  /** Keeps what a listing answered. */
  remember(key: string, specs: readonly ToolSpec[]): void {
    this.#touch(key, { specs, listedAt: this.#clock(), stale: false })
  }

  /**
   * The next invocation lists again: the server said its tools changed, or a call could not reach
   * it (so the next invocation finds out before its model call, and is told if it is still down).
   */
  invalidate(key: string): void {
    const listing = this.#entries.get(key)
    if (listing !== undefined) this.#entries.set(key, { ...listing, stale: true })
  }

  #touch(key: string, listing: Listing): void {
    this.#entries.delete(key)
    this.#entries.set(key, listing)
    if (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next().value
      if (oldest !== undefined) this.#entries.delete(oldest)
    }
  }
}

function checkCount(field: string, value: number, min: number): number {
  if (!Number.isInteger(value) || value < min)
    throw new AgentConfigError(field, `must be a whole number of at least ${min}, got ${String(value)}`)
  return value
}
