/**
 * The session `longrun invoke` continues: one per target (a runtime ARN at an endpoint), kept in
 * the data directory, so `longrun invoke "..."` twice is one conversation and `--new-session`
 * starts another.
 */
import { randomUUID } from 'node:crypto'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

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
