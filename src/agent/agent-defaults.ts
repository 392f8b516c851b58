/** Defaults of the agent, defined once (src/config.ts uses them for unset variables). */
import { SESSION_MANAGER_DEFAULTS } from '../memory/session-manager-defaults.ts'

/** Messages the agent keeps in its context: Strands' sliding window, and the window a restore reads. */
export const DEFAULT_CONVERSATION_WINDOW: number = SESSION_MANAGER_DEFAULTS.restoreWindow

/** Defaults of {@link McpToolListings} (src/agent/mcp-tool-listings.ts). */
export const MCP_TOOL_LISTING_DEFAULTS = {
  /**
   * A listing older than this is made again (alongside the restore): the bound on how long a
   * server that changes its tools without saying so (ours never says) is seen with the old ones.
   */
  maxAgeMs: 60_000,
  /** Listings kept, one per server and token: with callers' own tokens, one per caller. */
  maxEntries: 1_000,
} as const
