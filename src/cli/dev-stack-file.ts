/**
 * What `longrun dev` leaves in the data directory while it runs, so `longrun invoke`, `tasks` and
 * `memory` in another terminal find the local stack (its URLs, the memory, the MCP token) with no
 * variables set. Written with owner-only permissions, since it holds the MCP bearer token, and
 * removed when the stack stops.
 */
import { processAlive } from '../shared/process-alive.ts'
import { readFileSync } from 'node:fs'
import { rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { z } from 'zod'

const DevStackSchema = z.object({
  agentCoreEndpoint: z.string(),
  mcpUrl: z.string(),
  mcpBearerToken: z.string(),
  memoryId: z.string(),
  runtimeArn: z.string(),
  runtimeUrl: z.string(),
  pid: z.number(),
})

/** The running local stack, as `longrun dev` describes it. */
export type DevStack = z.infer<typeof DevStackSchema>

const FILE_NAME = 'dev-stack.json'

/** Writes the file whole and owner-only: a new file renamed into place, never an old one (or a link) reused. */
export async function writeDevStack(dataDir: string, stack: DevStack): Promise<void> {
  const path = join(dataDir, FILE_NAME)
  const fresh = `${path}.${process.pid}.tmp`
  await rm(fresh, { force: true })
  await writeFile(fresh, `${JSON.stringify(stack, null, 2)}\n`, { mode: 0o600, flag: 'wx' })
  await rename(fresh, path)
}

export async function removeDevStack(dataDir: string): Promise<void> {
  await rm(join(dataDir, FILE_NAME), { force: true })
}

/** The stack `longrun dev` runs from this data directory, or undefined when none runs. */
export function readDevStack(dataDir: string): DevStack | undefined {
  let text: string
  try {
    text = readFileSync(join(dataDir, FILE_NAME), 'utf8')
  } catch {
    return undefined
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return undefined
  }
  const parsed = DevStackSchema.safeParse(value)
  // A file left by a stack that was killed names a process that is gone.
  if (!parsed.success || !processAlive(parsed.data.pid)) return undefined
  return parsed.data
}
