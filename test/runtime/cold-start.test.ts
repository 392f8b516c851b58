import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { responseOf, sessionIdFor, useRuntimeStack } from '../helpers/runtime-stack.ts'

const RECORDER = new URL('../helpers/module-load-recorder.ts', import.meta.url).pathname
/** Packages the runtime needs only to run an agent, or only with some settings. */
const AGENT_SIDE = [
  '@strands-agents/sdk',
  '@aws-sdk/client-bedrock-agentcore',
  '@aws-sdk/client-bedrock-runtime',
  '@modelcontextprotocol/sdk',
  'openai',
  '@opentelemetry/sdk-trace-base',
  '@opentelemetry/sdk-metrics',
  'jose',
]

describe('cold start: the runtime loads what it needs when it needs it', () => {
  const stack = useRuntimeStack()
  const loadedPackages = (log: string) => {
    const urls = readFileSync(log, 'utf8').split('\n')
    return AGENT_SIDE.filter((name) => urls.some((url) => url.includes(`/node_modules/${name}/`)))
  }

  test('a runtime answers /ping Healthy before loading the agent side; its first invocation loads it and answers', async () => {
    const log = join(stack.dataDir, 'cold-start-modules.log')
    const runtime = await stack.startRuntimeProcess({
      NODE_OPTIONS: `--import=${RECORDER}`,
      LONGRUN_TEST_MODULE_LOG: log,
    })
    const ping = (await (await fetch(`${runtime.url}/ping`)).json()) as { status: string }
    assert.equal(ping.status, 'Healthy')
    assert.deepEqual(
      loadedPackages(log),
      [],
      'nothing of the agent side, no JWT library, no OpenTelemetry SDK',
    )

    const outcome = await stack.invoke('list my tasks', { sessionId: sessionIdFor('cold-start') })
    assert.match(responseOf(outcome), /You have no tasks/)
    const loaded = loadedPackages(log)
    for (const name of [
      '@strands-agents/sdk',
      '@aws-sdk/client-bedrock-agentcore',
      '@modelcontextprotocol/sdk',
    ])
      assert.ok(loaded.includes(name), `${name} is loaded by the first invocation`)
    // (Strands' own entry loads the Bedrock runtime client whichever model is used.)
    for (const name of ['openai', '@opentelemetry/sdk-trace-base', 'jose'])
      assert.ok(!loaded.includes(name), `${name} is not needed by the demo model, without OTLP or JWTs`)
  })
})
