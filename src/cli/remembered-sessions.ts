/**
 * The session `longrun invoke` and `longrun chat` continue: one per target (a runtime ARN at an
 * endpoint), kept in the target's data directory, so `longrun invoke "..."` twice is one
 * conversation and `--new-session` starts another.
 */
import { randomUUID } from 'node:crypto'
import { chmod, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Environment } from '../config.ts'
import { ensurePrivateDirectory, PRIVATE_FILE_MODE } from '../shared/private-files.ts'
import { CliUsageError } from './cli-errors.ts'
import { type CliTarget, requireRuntimeArn, resolveTarget } from './cli-target.ts'
import type { ConversationFlags } from './conversation-options.ts'

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

/** The key a target's session is remembered under: its endpoint (or AWS region) and its runtime. */
export function conversationKey(target: Pick<CliTarget, 'endpoint' | 'region'>, arn: string): string {
  return `${target.endpoint ?? `aws:${target.region}`} ${arn}`
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
  // Owner-only, as the rest of the data directory: it names the actors and sessions used here.
  ensurePrivateDirectory(dataDir)
  const path = join(dataDir, FILE_NAME)
  await writeFile(path, `${JSON.stringify(all, null, 2)}\n`, { mode: PRIVATE_FILE_MODE })
  await chmod(path, PRIVATE_FILE_MODE)
}

async function readAll(dataDir: string): Promise<Record<string, RememberedSession>> {
  try {
    const value: unknown = JSON.parse(await readFile(join(dataDir, FILE_NAME), 'utf8'))
    return typeof value === 'object' && value !== null ? (value as Record<string, RememberedSession>) : {}
  } catch {
    return {}
  }
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
  const target = await resolveTarget(env, flags)
  const arn = requireRuntimeArn(target)
  const key = conversationKey(target, arn)
  const remembered = flags.newSession ? undefined : await recallSession(target.dataDir, key)
  const sessionId = flags.session ?? remembered?.sessionId ?? newCliSessionId()
  if (sessionId.length < 33 || sessionId.length > 256)
    throw new CliUsageError(`--session must be 33 to 256 characters long (got ${sessionId.length})`)
  // With a bearer token the runtime takes the token's subject as the actor: only --actor names one.
  const actorId =
    flags.actor ??
    (sessionId === remembered?.sessionId && target.bearerToken === undefined ? remembered.actorId : undefined)
  return { target, arn, key, sessionId, actorId, remembered }
}
