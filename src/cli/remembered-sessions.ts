/**
 * The session `longrun invoke` and `longrun chat` continue: one per target (a runtime ARN at an
 * endpoint), kept in the data directory, so `longrun invoke "..."` twice is one conversation and
 * `--new-session` starts another; and the flags both commands take to choose it.
 */
import { randomUUID } from 'node:crypto'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Command } from 'commander'
import type { Environment } from '../config.ts'
import { CliUsageError } from './cli-errors.ts'
import { type CliTarget, requireRuntimeArn, resolveTarget } from './cli-target.ts'

/** What is remembered of a target's conversation. */
export interface RememberedSession {
  readonly sessionId: string
  readonly actorId: string | undefined
}

const FILE_NAME = 'cli-sessions.json'

/** A new runtime session id: 48 characters, valid for the Runtime (33..256) and as a Memory session id. */
export function newCliSessionId(): string {
  return `longrun-cli-${randomUUID()}`
}

export async function recallSession(dataDir: string, target: string): Promise<RememberedSession | undefined> {
  return (await readAll(dataDir))[target]
}

export async function rememberSession(
  dataDir: string,
  target: string,
  session: RememberedSession,
): Promise<void> {
  const all = await readAll(dataDir)
  all[target] = session
  await mkdir(dataDir, { recursive: true })
  await writeFile(join(dataDir, FILE_NAME), `${JSON.stringify(all, null, 2)}\n`)
}

async function readAll(dataDir: string): Promise<Record<string, RememberedSession>> {
  try {
    const value: unknown = JSON.parse(await readFile(join(dataDir, FILE_NAME), 'utf8'))
    return typeof value === 'object' && value !== null ? (value as Record<string, RememberedSession>) : {}
  } catch {
    return {}
  }
}

/** The flags of the commands that converse with a runtime (`invoke`, `chat`). */
export interface ConversationFlags {
  readonly session?: string | undefined
  readonly newSession?: boolean | undefined
  readonly actor?: string | undefined
  readonly arn?: string | undefined
  readonly endpoint?: string | undefined
  readonly region?: string | undefined
  readonly memory?: string | undefined
}

/** Adds the flags `invoke` and `chat` share: which session, which actor, which runtime. */
export function withConversationOptions(command: Command): Command {
  return command
    .option(
      '--session <id>',
      'runtime session id to use (33-256 characters); default: the last one used here',
    )
    .option('--new-session', 'start a new session instead of continuing the last one')
    .option(
      '--actor <id>',
      'actor id (default: the session\'s, else "default"; ignored when the runtime authenticates callers)',
    )
    .option('--arn <arn>', 'agent runtime ARN (default AGENT_RUNTIME_ARN, else the local stack)')
    .option(
      '--endpoint <url>',
      'AgentCore endpoint (default AGENTCORE_ENDPOINT, else the local stack, else AWS)',
    )
    .option('--region <region>', 'AWS region (default AWS_REGION)')
}

/** Where a conversation goes and which session it continues. */
export interface Conversation {
  readonly target: CliTarget
  readonly arn: string
  /** The key its session is remembered under (endpoint and runtime). */
  readonly key: string
  readonly sessionId: string
  readonly actorId: string | undefined
  /** The session remembered for this target, if any. */
  readonly remembered: RememberedSession | undefined
}

/** The target, the runtime and the session (the last one used here unless told otherwise). */
export async function resolveConversation(env: Environment, flags: ConversationFlags): Promise<Conversation> {
  const target = resolveTarget(env, flags)
  const arn = requireRuntimeArn(target)
  const key = `${target.endpoint ?? `aws:${target.region}`} ${arn}`
  const remembered = flags.newSession ? undefined : await recallSession(env.LONGRUN_DATA_DIR, key)
  const sessionId = flags.session ?? remembered?.sessionId ?? newCliSessionId()
  if (sessionId.length < 33 || sessionId.length > 256)
    throw new CliUsageError(`--session must be 33 to 256 characters long (got ${sessionId.length})`)
  const actorId = flags.actor ?? (sessionId === remembered?.sessionId ? remembered.actorId : undefined)
  return { target, arn, key, sessionId, actorId, remembered }
}
