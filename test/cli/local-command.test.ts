import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { test } from 'node:test'
import {
  BedrockAgentCoreControlClient,
  CreateMemoryCommand,
  GetMemoryCommand,
} from '@aws-sdk/client-bedrock-agentcore-control'
import { TEST_CREDENTIALS } from '../helpers/local-agentcore.ts'

const CLI = new URL('../../src/cli/main.ts', import.meta.url).pathname

/** Starts `longrun local` as a child process and resolves with the URL it prints. */
async function startCli(args: string[]) {
  const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', CLI, 'local', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const lines = createInterface({ input: child.stdout })
  const output: string[] = []
  const url = await new Promise<string>((resolve, reject) => {
    lines.on('line', (line) => {
      output.push(line)
      const match = /listening on (http:\/\/\S+)/.exec(line)
      if (match?.[1]) resolve(match[1])
    })
    child.once('exit', (code) => reject(new Error(`exited early with ${code}: ${output.join('\n')}`)))
  })
  return { child, url, output }
}

test('longrun local prints its URL, serves the SDK, keeps data and stops cleanly on SIGINT', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'longrun-cli-'))
  try {
    const first = await startCli(['--port', '0', '--data-dir', dataDir])
    const client = new BedrockAgentCoreControlClient({
      endpoint: first.url,
      region: 'us-east-1',
      credentials: TEST_CREDENTIALS,
    })
    const { memory } = await client.send(
      new CreateMemoryCommand({ name: 'FromCli', eventExpiryDuration: 30 }),
    )
    client.destroy()
    first.child.kill('SIGINT')
    const [code] = await once(first.child, 'exit')
    assert.equal(code, 0)
    assert.ok(first.output.includes('stopped'))

    const second = await startCli(['--port', '0', '--data-dir', dataDir])
    const again = new BedrockAgentCoreControlClient({
      endpoint: second.url,
      region: 'us-east-1',
      credentials: TEST_CREDENTIALS,
    })
    const fetched = await again.send(new GetMemoryCommand({ memoryId: memory?.id as string }))
    again.destroy()
    assert.equal(fetched.memory?.name, 'FromCli')
    second.child.kill('SIGTERM')
    const [secondCode] = await once(second.child, 'exit')
    assert.equal(secondCode, 0)
  } finally {
    await rm(dataDir, { recursive: true, force: true })
  }
})

test('longrun local refuses a bad port with a clear message', async () => {
  const child = spawn(
    process.execPath,
    ['--disable-warning=ExperimentalWarning', CLI, 'local', '--port', 'abc'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8')
  })
  const [code] = await once(child, 'exit')
  assert.equal(code, 1)
  assert.match(stderr, /--port must be 0\.\.65535/)
})

test('a bad environment variable is named at start', async () => {
  const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', CLI, 'local'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, AGENTCORE_LOCAL_PORT: 'not-a-port' },
  })
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8')
  })
  const [code] = await once(child, 'exit')
  assert.equal(code, 1)
  assert.match(stderr, /AGENTCORE_LOCAL_PORT/)
})
