/**
 * Approvals: named tools ask the caller before they run. The ask is a Strands interrupt raised in
 * the tool call's BeforeToolCall hook, so the turn pauses (`stopReason: interrupt`), the pause is
 * stored with the session, and a later invocation, in any process, resumes it with the answer.
 */
import { BeforeToolCallEvent, type LocalAgent } from '@strands-agents/sdk'

/** The name of the interrupt an approval raises: what a caller sees as the question's `name`. */
export const APPROVAL_INTERRUPT_NAME = 'approval'

/** The `reason` of an approval's interrupt: what is asked, and about which call. */
export interface ApprovalReason {
  readonly question: string
  readonly tool: string
  readonly input: unknown
}

/** Answers that approve; any other answer refuses (and is told to the model). */
const APPROVALS = new Set(['yes', 'y', 'approve', 'approved', 'ok'])

/** Whether an answer approves: `true`, `{ "approved": true }`, or yes / y / approve / approved / ok. */
export function isApproval(answer: unknown): boolean {
  if (answer === true) return true
  if (typeof answer === 'string') return APPROVALS.has(answer.trim().toLowerCase())
  return typeof answer === 'object' && answer !== null && (answer as { approved?: unknown }).approved === true
}

/**
 * Makes each call of the named tools ask first. Approved, the tool runs; refused, it does not, and
 * the model is given the refusal as the tool's error result (with the caller's words, if any).
 */
export function requireApproval(agent: LocalAgent, tools: readonly string[]): void {
  const asked = new Set(tools)
  if (asked.size === 0) return
  agent.addHook(BeforeToolCallEvent, (event) => {
    const { name, input } = event.toolUse
    if (!asked.has(name)) return
    const reason: ApprovalReason = {
      question: `Run ${name} with ${JSON.stringify(input)}?`,
      tool: name,
      input,
    }
    const answer = event.interrupt({ name: APPROVAL_INTERRUPT_NAME, reason: reason as never })
    if (isApproval(answer)) return
    const words = typeof answer === 'string' && answer.trim() !== '' ? `: "${answer.trim()}"` : ''
    event.cancel = `The user did not approve this call of ${name}${words}. It was not run.`
  })
}

/** A question the agent waits on: one unanswered interrupt of its paused turn. */
export interface PendingInterrupt {
  readonly id: string
  readonly name: string
  readonly reason?: unknown
}

/**
 * The questions the agent's turn is paused on (none when it is not paused), read through Strands'
 * public snapshot: after a restore they are what the session waits on.
 */
export function pendingInterruptsOf(agent: LocalAgent): PendingInterrupt[] {
  const state = agent.takeSnapshot({ include: ['interrupts'] }).data.interrupts as
    | { activated?: boolean; interrupts?: Record<string, PendingInterrupt & { response?: unknown }> }
    | null
    | undefined
  if (state?.activated !== true) return []
  return Object.values(state.interrupts ?? {}).flatMap((interrupt) =>
    interrupt.response === undefined
      ? [
          {
            id: interrupt.id,
            name: interrupt.name,
            ...(interrupt.reason !== undefined && { reason: interrupt.reason }),
          },
        ]
      : [],
  )
}
