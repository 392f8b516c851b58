/**
 * What `longrun dev` leaves in the data directory while it runs, so `longrun invoke`, `tasks` and
 * `memory` in another terminal find the local stack (its URLs, the memory, the MCP token) with no
 * variables set. Written with owner-only permissions, since it holds the MCP bearer token, and
 * removed when the stack stops. The client commands look for it from the working directory
 * upwards, so they work from any subdirectory of the project, and tell a stack that is down (its
 * file is there) from one that cannot be found (no file anywhere up).
 */
import { readFileSync } from 'node:fs'
import { rename, rm, writeFile } from 'node:fs/promises'
import { get } from 'node:http'
import { dirname, join, resolve } from 'node:path'
import { z } from 'zod'
import { MCP_SERVER_DEFAULTS } from '../mcp-server/server-defaults.ts'
import { processAlive } from '../shared/process-alive.ts'

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
/** How long the local service may take to answer the liveness check before the stack counts as down. */
const PROBE_TIMEOUT_MS = 2000

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
  const found = readStackFile(dataDir)
  return found.state === 'running' ? found.stack : undefined
}

/** What a look for the stack found. */
export type StackLookup =
  /** The file names a live process (whether its service answers is {@link confirmStackAnswers}'s to say). */
  | { readonly state: 'running'; readonly dataDir: string; readonly stack: DevStack }
  /** The file is there, but the stack it describes is not running. */
  | { readonly state: 'down'; readonly dataDir: string; readonly reason: string }
  /** No file: `searched` says where it was looked for. */
  | { readonly state: 'not-found'; readonly searched: string }

/** Where to look for the stack file. */
export interface StackSearch {
  /** LONGRUN_DATA_DIR. Its default (`.longrun`) is looked for in the working directory and every one above it. */
  readonly dataDir: string
  /** The directory the search starts from (default: the working directory). */
  readonly cwd?: string
}

/**
 * Finds the stack file: in the data directory given, or, for the default data directory, in the
 * nearest `.longrun/` from the working directory up to the filesystem root that holds one.
 */
export function findDevStack(search: StackSearch): StackLookup {
  const cwd = search.cwd ?? process.cwd()
  if (search.dataDir !== MCP_SERVER_DEFAULTS.dataDir) {
    const dataDir = resolve(cwd, search.dataDir)
    const found = readStackFile(dataDir)
    return found.state === 'not-found' ? { state: 'not-found', searched: join(dataDir, FILE_NAME) } : found
  }
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    const found = readStackFile(join(dir, MCP_SERVER_DEFAULTS.dataDir))
    if (found.state !== 'not-found') return found
    if (dirname(dir) === dir) break
  }
  return {
    state: 'not-found',
    searched: `${join(MCP_SERVER_DEFAULTS.dataDir, FILE_NAME)} in ${resolve(cwd)} and every directory above it`,
  }
}

/**
 * A stack whose process lives still has to answer: a hung stack, or a process id the system gave
 * to another program since, counts as down. Anything but a running stack is returned as it is.
 */
export async function confirmStackAnswers(lookup: StackLookup): Promise<StackLookup> {
  if (lookup.state !== 'running') return lookup
  const healthUrl = new URL('/_local/health', lookup.stack.agentCoreEndpoint)
  if (await answers(healthUrl)) return lookup
  return {
    state: 'down',
    dataDir: lookup.dataDir,
    reason: `its local AgentCore service at ${lookup.stack.agentCoreEndpoint} does not answer`,
  }
}

function readStackFile(dataDir: string): StackLookup {
  let text: string
  try {
    text = readFileSync(join(dataDir, FILE_NAME), 'utf8')
  } catch {
    return { state: 'not-found', searched: join(dataDir, FILE_NAME) }
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return { state: 'down', dataDir, reason: `its ${FILE_NAME} is not JSON` }
  }
  const parsed = DevStackSchema.safeParse(value)
  if (!parsed.success)
    return {
      state: 'down',
      dataDir,
      reason: `its ${FILE_NAME} does not describe a stack`,
    }
  // A file left by a stack that was killed names a process that is gone.
  if (!processAlive(parsed.data.pid))
    return {
      state: 'down',
      dataDir,
      reason: `its process ${parsed.data.pid} is gone, killed before it could remove its file`,
    }
  return { state: 'running', dataDir, stack: parsed.data }
}

/** True when a GET of `url` gets any HTTP answer in time. */
function answers(url: URL): Promise<boolean> {
  return new Promise((done) => {
    const request = get(url, { timeout: PROBE_TIMEOUT_MS }, (response) => {
      response.resume()
      done(true)
    })
    request.on('timeout', () => request.destroy())
    request.on('error', () => done(false))
  })
}
