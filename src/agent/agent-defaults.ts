/** Defaults of the agent, defined once (src/config.ts uses them for unset variables). */
import { SESSION_MANAGER_DEFAULTS } from '../memory/session-manager-config.ts'

/** Messages the agent keeps in its context: Strands' sliding window, and the window a restore reads. */
export const DEFAULT_CONVERSATION_WINDOW: number = SESSION_MANAGER_DEFAULTS.restoreWindow
