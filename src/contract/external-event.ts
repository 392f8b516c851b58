/**
 * The event a tool outside the agent writes to tell the agent something (a finished task, say):
 * one USER conversational payload whose text is a Strands SessionMessage holding one text block.
 * This is the format the seed MCP server writes and the session manager reads back.
 */

/** The `payload` item of CreateEvent for a USER text message written from outside the agent. */
export interface ConversationalPayload {
  conversational: { content: { text: string }; role: 'USER' | 'ASSISTANT' | 'TOOL' | 'OTHER' }
}

/** Builds the USER conversational payload carrying `text` in the SessionMessage form. */
export function userTextEventPayload(text: string): ConversationalPayload {
  const sessionMessage = { message: { role: 'user', content: [{ text }] }, message_id: 0 }
  return { conversational: { content: { text: JSON.stringify(sessionMessage) }, role: 'USER' } }
}
