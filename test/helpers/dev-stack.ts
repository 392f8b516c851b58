/** `longrun dev` started as a user starts it, on free ports, in a data directory of its own. */
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { promisify } from 'node:util'
import { NODE } from './child-process.ts'
import { tempDir } from './mcp-server.ts'

export const CLI = new URL('../../bin/longrun.js', import.meta.url).pathname

/** What a finished CLI process printed, and its exit code. */
export interface CliOutcome {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

const execFileAsync = promisify(execFile)

/** Runs `longrun <args>` as a user would, in `cwd` with exactly `env`; a failure is an outcome, not a throw. */
export async function runCli(
  args: readonly string[],
  options: { env: NodeJS.ProcessEnv; cwd: string },
): Promise<CliOutcome> {
  try {
    const { stdout, stderr } = await execFileAsync(NODE, [CLI, ...args], options)
    return { code: 0, stdout, stderr }
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string }
    return { code: failed.code ?? -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' }
  }
}

export interface DevStack {
  readonly process: ChildProcess
  readonly dataDir: string
  /** The console URL it printed (with its token). */
  readonly consoleUrl: string
  /** What it printed on stdout until it said it was up. */
  readonly banner: readonly string[]
  /** The environment the client commands run with, to find this stack. */
  readonly env: NodeJS.ProcessEnv
  stop(): Promise<void>
}

/**
 * Starts the stack (training epochs paced at `epochDelayMs`; `extraEnv` added to its environment,
 * `AGENT_APPROVAL_TOOLS` say) and waits until it says it is up.
 */
export async function startDevStack(epochDelayMs = 250, extraEnv: NodeJS.ProcessEnv = {}): Promise<DevStack> {
  const dir = await tempDir('longrun-dev-stack-')
  // Nothing of the machine's own configuration: the stack finds everything in its data directory.
  const env = {
    ...process.env,
    LONGRUN_DATA_DIR: dir.path,
    MCP_BEARER_TOKEN: '',
    MEMORY_ID: '',
    AGENTCORE_ENDPOINT: '',
    ...extraEnv,
  }
  const child = spawn(
    NODE,
    [
      CLI,
      'dev',
      ...['--port', '0', '--mcp-port', '0', '--runtime-port', '0', '--console-port', '0'],
      ...['--data-dir', dir.path, '--epoch-delay-ms', String(epochDelayMs)],
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env },
  )
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  const banner: string[] = []
  const consoleUrl = await new Promise<string>((resolve, reject) => {
    let url: string | undefined
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      banner.push(line)
      url ??= /longrun console: (\S+)/.exec(line)?.[1]
      if (line.includes('Ctrl-C') && url !== undefined) resolve(url)
    })
    child.once('exit', (code) => reject(new Error(`longrun dev exited early with ${code}: ${stderr}`)))
  })
  return {
    process: child,
    dataDir: dir.path,
    consoleUrl,
    banner,
    env,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = once(child, 'exit')
        child.kill('SIGINT')
        // A stack that does not stop within 15 s is killed, so a test run never hangs on it.
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000)
        await exited
        clearTimeout(timer)
      }
      await dir.remove()
    },
  }
}
