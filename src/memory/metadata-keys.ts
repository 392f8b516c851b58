/**
 * The metadata keys that tell state events apart, in a file of their own so the session manager's
 * configuration (and src/config.ts through it) does not load the codec and Strands with it.
 */

/** Metadata key telling state events apart from messages. */
export const STATE_TYPE_KEY = 'stateType'
/** Metadata key naming the agent of an AGENT state event. */
export const AGENT_ID_KEY = 'agentId'
