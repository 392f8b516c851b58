/**
 * What Bedrock Converse accepts as a conversation, as a check and as a repair. A history restored
 * from memory may hold a tool call whose process died (no result), events of one role in a row
 * (a tool-written USER event next to the user's own message) or blank blocks; the model must
 * never see those, while the stored events stay as they are.
 */

import type { ContentBlock, MessageData } from '@strands-agents/sdk'
import { Message, TextBlock, ToolResultBlock } from '@strands-agents/sdk'
import { isRecord } from './event-codec.ts'

/** One reason a history would be rejected. */
export interface ConverseViolation {
  readonly index: number
  readonly reason: string
}

/** Text of the result given to a tool call that has no recorded result (its process stopped). */
export const INTERRUPTED_TOOL_RESULT_TEXT =
  'The tool call was interrupted before it returned; no result was recorded. Call the tool again if the result is still needed.'

type BlockJson = Record<string, unknown>

/**
 * Checks a history against the rules Converse enforces: starts with a user message, roles
 * alternate, no empty message or blank text, every toolUse answered by a toolResult in the next
 * message (toolResults first), no toolResult without its toolUse in the message before.
 * Returns every violation; an empty list means valid. A trailing user message is allowed.
 */
export function validateConverseHistory(messages: readonly (Message | MessageData)[]): ConverseViolation[] {
  const violations: ConverseViolation[] = []
  const data = messages.map((message) => (message instanceof Message ? message.toJSON() : message))
  data.forEach((message, index) => {
    const blocks = message.content as BlockJson[]
    if (index === 0 && message.role !== 'user')
      violations.push({ index, reason: 'first message is not a user message' })
    if (index > 0 && data[index - 1]?.role === message.role) {
      violations.push({ index, reason: `two ${message.role} messages in a row` })
    }
    if (blocks.length === 0) violations.push({ index, reason: 'message has no content' })
    if (blocks.some((block) => typeof block.text === 'string' && block.text.trim() === '')) {
      violations.push({ index, reason: 'blank text block' })
    }
    const uses = toolUseIds(blocks)
    const results = toolResultIds(blocks)
    if (message.role === 'assistant' && results.length > 0)
      violations.push({ index, reason: 'toolResult in an assistant message' })
    if (message.role === 'user' && uses.length > 0)
      violations.push({ index, reason: 'toolUse in a user message' })
    if (message.role === 'assistant' && uses.length > 0) {
      const next = data[index + 1]
      const answered = new Set(next?.role === 'user' ? toolResultIds(next.content as BlockJson[]) : [])
      for (const id of uses) {
        if (!answered.has(id))
          violations.push({ index, reason: `toolUse ${id} has no toolResult in the next message` })
      }
    }
    if (message.role === 'user' && results.length > 0) {
      const previous = data[index - 1]
      const asked = new Set(previous?.role === 'assistant' ? toolUseIds(previous.content as BlockJson[]) : [])
      for (const id of results) {
        if (!asked.has(id))
          violations.push({ index, reason: `toolResult ${id} has no toolUse in the message before` })
      }
      const firstOther = blocks.findIndex((block) => !isRecord(block.toolResult))
      const lastResult = blocks.findLastIndex((block) => isRecord(block.toolResult))
      if (firstOther !== -1 && firstOther < lastResult) {
        violations.push({ index, reason: 'toolResult blocks do not come first' })
      }
      if (new Set(results).size !== results.length)
        violations.push({ index, reason: 'duplicate toolResult id' })
    }
  })
  return violations
}

/**
 * Returns a history Converse accepts, built from `messages` without changing them: blank text
 * dropped, leading assistant messages dropped, same-role neighbours merged in order (toolResults
 * first), a toolResult without its toolUse dropped, and a toolUse without a result answered by an
 * error result saying the call was interrupted. A merged message keeps the trackingId of its
 * last part, so the latest message can still be found by id.
 */
export function normalizeConverseHistory(messages: readonly Message[]): Message[] {
  const out: Message[] = []
  for (const group of groupByRole(pairDisplacedResults(messages))) {
    const previous = out.at(-1)
    const asked = previous?.role === 'assistant' ? pendingToolUses(previous) : []
    if (group.role === 'assistant') {
      if (!previous) continue
      if (previous.role === 'assistant' && asked.length === 0) {
        // The user message between them held only stray results and is gone: one assistant turn.
        out[out.length - 1] = messageOf(group.last, [...previous.content, ...group.content])
        continue
      }
      if (previous.role === 'assistant') out.push(userMessage(interruptedResults(asked)))
      out.push(messageOf(group.last, group.content))
      continue
    }
    const hasResults = group.content.some((block) => block.type === 'toolResultBlock')
    if (!hasResults && asked.length === 0) {
      out.push(messageOf(group.last, group.content))
      continue
    }
    // Keep only results the assistant message just before asked for, once each; answer the rest.
    const wanted = new Set(asked)
    const results: ContentBlock[] = []
    const others: ContentBlock[] = []
    for (const block of group.content) {
      if (block.type !== 'toolResultBlock') others.push(block)
      else if (wanted.delete(block.toolUseId)) results.push(block)
    }
    const content = [...results, ...interruptedResults([...wanted]), ...others]
    if (content.length > 0) out.push(messageOf(group.last, content))
  }
  const last = out.at(-1)
  const unanswered = last?.role === 'assistant' ? pendingToolUses(last) : []
  if (unanswered.length > 0) out.push(userMessage(interruptedResults(unanswered)))
  return out
}

/**
 * Moves each tool result that was stored away from its call (another turn's messages sit between
 * them: two turns of one session ran at once, or two writers interleaved) to just after the call,
 * so a result that is stored is never taken for a crash's missing one. A result belongs to the
 * nearest earlier call of its id that the messages right after it did not answer. Returns
 * `messages` itself when no result is displaced (the common case, checked without copying).
 */
export function pairDisplacedResults(messages: readonly Message[]): readonly Message[] {
  if (!hasDisplacedResult(messages)) return messages
  const runs = roleRuns(messages)
  /** Results moved to the call at each assistant run (by run index), and every moved block. */
  const movedTo = new Map<number, ContentBlock[]>()
  const moved = new Set<ContentBlock>()
  /** Calls their own next user run left unanswered: id -> index of the call's run. */
  const open = new Map<string, number>()
  runs.forEach((run, index) => {
    if (run.role !== 'user') return
    const asked = index > 0 ? runToolUseIds(messages, runs[index - 1] as RoleRun) : new Set<string>()
    const answered = new Set<string>()
    for (let at = run.start; at < run.end; at += 1) {
      for (const block of (messages[at] as Message).content) {
        if (block.type !== 'toolResultBlock') continue
        if (asked.has(block.toolUseId)) {
          answered.add(block.toolUseId)
          continue
        }
        const owner = open.get(block.toolUseId)
        if (owner === undefined) continue
        open.delete(block.toolUseId)
        moved.add(block)
        const blocks = movedTo.get(owner) ?? []
        blocks.push(block)
        movedTo.set(owner, blocks)
      }
    }
    for (const id of asked) if (!answered.has(id)) open.set(id, index - 1)
  })
  const out: Message[] = []
  runs.forEach((run, index) => {
    for (let at = run.start; at < run.end; at += 1) {
      const message = messages[at] as Message
      if (!message.content.some((block) => moved.has(block))) {
        out.push(message)
        continue
      }
      const content = message.content.filter((block) => !moved.has(block))
      if (content.length > 0) out.push(messageOf(message, content))
    }
    const results = movedTo.get(index)
    if (results !== undefined) out.push(userMessage(results))
  })
  return out
}

/** Whether a tool result sits after a user run other than the one right after its call. */
function hasDisplacedResult(messages: readonly Message[]): boolean {
  /** Calls of the latest assistant run, and those of its next user run answered so far. */
  const asked = new Set<string>()
  const answered = new Set<string>()
  /** Calls of earlier runs that the user run right after them did not answer. */
  const unanswered = new Set<string>()
  let previousRole: Message['role'] | undefined
  for (const message of messages) {
    if (message.role === 'assistant') {
      if (previousRole !== 'assistant') {
        for (const id of asked) if (!answered.has(id)) unanswered.add(id)
        asked.clear()
        answered.clear()
      }
      for (const block of message.content) if (block.type === 'toolUseBlock') asked.add(block.toolUseId)
    } else {
      for (const block of message.content) {
        if (block.type !== 'toolResultBlock') continue
        if (asked.has(block.toolUseId)) answered.add(block.toolUseId)
        else if (unanswered.has(block.toolUseId)) return true
      }
    }
    previousRole = message.role
  }
  return false
}

/** A run of consecutive messages of one role: `messages[start..end)`. */
interface RoleRun {
  readonly role: Message['role']
  readonly start: number
  end: number
}

function roleRuns(messages: readonly Message[]): RoleRun[] {
  const runs: RoleRun[] = []
  messages.forEach((message, index) => {
    const last = runs.at(-1)
    if (last?.role === message.role) last.end = index + 1
    else runs.push({ role: message.role, start: index, end: index + 1 })
  })
  return runs
}

function runToolUseIds(messages: readonly Message[], run: RoleRun): Set<string> {
  const ids = new Set<string>()
  for (let at = run.start; at < run.end; at += 1) {
    for (const block of (messages[at] as Message).content)
      if (block.type === 'toolUseBlock') ids.add(block.toolUseId)
  }
  return ids
}

/** Consecutive messages of one role, blank text removed, in one linear pass (a long run of tool-written events is common). */
function groupByRole(
  messages: readonly Message[],
): { role: Message['role']; last: Message; content: ContentBlock[] }[] {
  const groups: { role: Message['role']; last: Message; content: ContentBlock[]; owned: boolean }[] = []
  for (const message of messages) {
    const content = hasBlankText(message)
      ? message.content.filter((block) => !(block.type === 'textBlock' && block.text.trim() === ''))
      : message.content
    if (content.length === 0) continue
    const group = groups.at(-1)
    if (group?.role === message.role) {
      if (!group.owned) group.content = [...group.content]
      group.owned = true
      for (const block of content) group.content.push(block)
      group.last = message
    } else {
      groups.push({ role: message.role, last: message, content: content as ContentBlock[], owned: false })
    }
  }
  return groups
}

function hasBlankText(message: Message): boolean {
  return message.content.some((block) => block.type === 'textBlock' && block.text.trim() === '')
}

function pendingToolUses(message: Message): string[] {
  if (!message.content.some((block) => block.type === 'toolUseBlock')) return []
  return [
    ...new Set(message.content.flatMap((block) => (block.type === 'toolUseBlock' ? [block.toolUseId] : []))),
  ]
}

function interruptedResults(ids: readonly string[]): ContentBlock[] {
  return ids.map(
    (toolUseId) =>
      new ToolResultBlock({
        toolUseId,
        status: 'error',
        content: [new TextBlock(INTERRUPTED_TOOL_RESULT_TEXT)],
      }),
  )
}

/** `message` with `content`, the same object when nothing changed (normalising runs before every model call). */
function messageOf(message: Message, content: readonly ContentBlock[]): Message {
  if (
    content.length === message.content.length &&
    content.every((block, index) => block === message.content[index])
  ) {
    return message
  }
  return new Message({
    role: message.role,
    content: [...content],
    trackingId: message.trackingId,
    ...(message.metadata !== undefined ? { metadata: message.metadata } : {}),
  })
}

function userMessage(content: ContentBlock[]): Message {
  return new Message({ role: 'user', content })
}

function toolUseIds(blocks: readonly BlockJson[]): string[] {
  return blocks.flatMap((block) =>
    isRecord(block.toolUse) && typeof block.toolUse.toolUseId === 'string' ? [block.toolUse.toolUseId] : [],
  )
}

function toolResultIds(blocks: readonly BlockJson[]): string[] {
  return blocks.flatMap((block) =>
    isRecord(block.toolResult) && typeof block.toolResult.toolUseId === 'string'
      ? [block.toolResult.toolUseId]
      : [],
  )
}
