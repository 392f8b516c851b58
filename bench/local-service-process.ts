/**
 * The local AgentCore service in a process of its own (`longrun local --in-memory`), as benchmarks
 * want it: a remote service does not share the client's event loop, so neither should this one.
 */
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { BedrockAgentCoreControlClient, CreateMemoryCommand } from '@aws-sdk/client-bedrock-agentcore-control'

/** Static credentials: the local service checks the signature's shape, not its value. */
const BENCH_CREDENTIALS = { accessKeyId: 'AKIDBENCH', secretAccessKey: 'bench' }

export interface LocalServiceProcess {
  readonly url: string
  /** Configuration of an AWS SDK client (data or control plane) pointed at the service. */
  readonly clientConfig: { endpoint: string; region: string; credentials: typeof BENCH_CREDENTIALS }
  /** Creates a memory through the control plane and returns its id. */
  createMemory(name: string): Promise<string>
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
  const clientConfig = { endpoint: url, region: 'us-east-1', credentials: BENCH_CREDENTIALS }
  const createMemory = async (name: string) => {
    const control = new BedrockAgentCoreControlClient(clientConfig)
    try {
      const output = await control.send(new CreateMemoryCommand({ name, eventExpiryDuration: 30 }))
      return output.memory?.id as string
    } finally {
      control.destroy()
    }
  }
  return { url, clientConfig, createMemory, stop }
}
