import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { test } from 'node:test'
import { promisify } from 'node:util'
import { startLocalAgentCore } from '../helpers/local-agentcore.ts'

const run = promisify(execFile)

test('the quickstart script works against the local service with only AGENTCORE_ENDPOINT set', async (t) => {
  const env = await startLocalAgentCore()
  t.after(() => env.close())
  const script = new URL('../../examples/memory-quickstart.ts', import.meta.url).pathname
  const { stdout } = await run(process.execPath, ['--disable-warning=ExperimentalWarning', script], {
    env: { ...process.env, AGENTCORE_ENDPOINT: env.service.url },
  })
  assert.match(stdout, /memory quickstart_\d+-[a-zA-Z0-9]{10} is ACTIVE/)
  assert.match(
    stdout,
    /USER: Train a classifier on my data set\nASSISTANT: Started training; I will report back\./,
  )
})
