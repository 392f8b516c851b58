/** Defaults of the agent, defined once (src/config.ts uses them for unset variables). */

/** Messages the agent keeps in its context (Strands' own default window). */
export const DEFAULT_CONVERSATION_WINDOW = 40
