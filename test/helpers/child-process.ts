/** A service started as its own process (as in a container), which prints its URL on stdout first. */
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'

/** The project's own Node 22, whatever Node runs the tests. */
export const NODE = new URL('../../node_modules/.bin/node', import.meta.url).pathname

export interface ServiceProcess {
  readonly process: ChildProcess
  /** The first line the service printed: its URL. */
  readonly url: string
  /** What it wrote on stderr so far (its log lines). */
  stderr(): string
}

/**
 * Starts `script` (with `args`) and `env` added to this process's environment (in `cwd`, default
 * this process's) and waits for its first stdout line.
 */
export async function startServiceProcess(
  script: string,
  env: Record<string, string>,
  cwd?: string,
  args: readonly string[] = [],
): Promise<ServiceProcess> {
  const child = spawn(NODE, ['--disable-warning=ExperimentalWarning', script, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(cwd !== undefined && { cwd }),
  })
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream })
  const exited = once(child, 'exit').then(() => {
    throw new Error(`${script} exited early: ${stderr}`)
  })
  const [url] = (await Promise.race([once(lines, 'line'), exited])) as [string]
  return { process: child, url, stderr: () => stderr }
}

/** Sends `signal` and waits for the exit; resolves with the exit code (null when killed by a signal). */
export async function stopServiceProcess(
  child: ServiceProcess,
  signal: NodeJS.Signals,
): Promise<number | null> {
  if (child.process.exitCode !== null || child.process.signalCode !== null) return child.process.exitCode
  const exited = once(child.process, 'exit') as Promise<[number | null]>
  child.process.kill(signal)
  const [code] = await exited
  return code
}
