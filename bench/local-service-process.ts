/**
 * The local AgentCore service in a process of its own (`longrun local --in-memory`), as benchmarks
 * want it: a remote service does not share the client's event loop, so neither should this one.
 */
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'

export interface LocalServiceProcess {
  readonly url: string
  /** Stops the process and waits for it to exit. */
  stop(): Promise<void>
}

export async function startLocalServiceProcess(): Promise<LocalServiceProcess> {
  const cli = new URL('../src/cli/main.ts', import.meta.url).pathname
  const child = spawn(
    process.execPath,
    ['--disable-warning=ExperimentalWarning', cli, 'local', '--port', '0', '--in-memory'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  )
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM')
      await exited
    }
  }
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      const match = /listening on (http:\/\/\S+)/.exec(line)
      if (match?.[1]) resolve(match[1])
    })
    child.once('exit', (code) => reject(new Error(`the local service exited with ${code}`)))
  })
  return { url, stop }
}
