import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import {
  BedrockRuntimeClient,
  ConverseCommand,
  ConverseStreamCommand,
  type ConverseStreamOutput,
} from '@aws-sdk/client-bedrock-runtime'
import OpenAI from 'openai'
import { ConfigError, loadEnvironment, modelProviderFromEnv } from '../../src/config.ts'
import { SESSION_ID_HEADER } from '../../src/runtime/index.ts'
import { startServiceProcess } from '../helpers/child-process.ts'
import { TEST_CREDENTIALS } from '../helpers/local-agentcore.ts'
import { unreachableMcpUrl } from '../helpers/mcp-server.ts'
import { responseOf, sessionIdFor, useRuntimeStack } from '../helpers/runtime-stack.ts'

const CONVERSATION = [
  'Train a model called provider-model for 4 epochs',
  'Train a model called provider-inline for 3 epochs and wait for it',
  'list my tasks',
]

/** An answer with the parts that differ between runs (task ids, file paths) blanked. */
function comparable(text: string): string {
  // Task ids are 24 base64url characters, which may begin or end with '-': matched after "task ".
  return text
    .replace(/([Tt]ask )[A-Za-z0-9_-]{24}(?![A-Za-z0-9_-])/g, '$1<task>')
    .replace(/Saved at \S+/g, 'Saved at <path>')
}

describe('MODEL_PROVIDER=bedrock and openai through their real clients, against the local endpoints', () => {
  const stack = useRuntimeStack()
  const providerVariables = () => ({
    bedrock: {
      MODEL_PROVIDER: 'bedrock',
      BEDROCK_MODEL_ID: 'global.anthropic.claude-sonnet-4-6',
      BEDROCK_ENDPOINT: stack.env.service.url,
    },
    openai: {
      MODEL_PROVIDER: 'openai',
      OPENAI_BASE_URL: `${stack.env.service.url}/v1`,
      OPENAI_API_KEY: 'local-key',
      OPENAI_MODEL: 'longrun-demo',
    },
  })

  test('the same conversation gets the same answers from demo, bedrock (ConverseStream over HTTP/2) and openai (chat completions)', async () => {
    const answers: Record<string, string[]> = {}
    for (const provider of ['demo', 'bedrock', 'openai'] as const) {
      const runtime = await stack.startRuntime(provider === 'demo' ? {} : providerVariables()[provider])
      stack.env.service.faults.resetCounts()
      const sessionId = sessionIdFor(`provider-${provider}`)
      answers[provider] = []
      for (const prompt of CONVERSATION) {
        // An actor per provider: each lists only its own tasks.
        const outcome = await stack.invoke(prompt, { sessionId, actorId: `actor-${provider}` })
        answers[provider].push(comparable(responseOf(outcome)))
      }
      const calls = stack.env.service.faults.counts()
      if (provider === 'bedrock') assert.ok((calls.ConverseStream?.calls ?? 0) >= 6, JSON.stringify(calls))
      if (provider === 'openai') assert.ok((calls.ChatCompletions?.calls ?? 0) >= 6, JSON.stringify(calls))
      if (provider === 'demo') assert.equal(calls.ConverseStream, undefined)
      await runtime.close()
    }
    assert.match(answers.demo?.[0] ?? '', /Started task <task> \(model_training\)/)
    assert.match(answers.demo?.[1] ?? '', /Training finished\. Model provider-inline: test accuracy/)
    assert.deepEqual(answers.bedrock, answers.demo)
    assert.deepEqual(answers.openai, answers.demo)
  })

  test('the local Converse endpoint answers the real client in both forms, with usage', async () => {
    const client = new BedrockRuntimeClient({
      endpoint: stack.env.service.url,
      region: 'us-east-1',
      credentials: TEST_CREDENTIALS,
    })
    try {
      const request = {
        modelId: 'global.anthropic.claude-sonnet-4-6',
        messages: [
          { role: 'user' as const, content: [{ text: 'train a model called direct-1 for 7 epochs' }] },
        ],
        toolConfig: {
          tools: [{ toolSpec: { name: 'start_model_training', inputSchema: { json: { type: 'object' } } } }],
        },
      }
      const plain = await client.send(new ConverseCommand(request))
      assert.equal(plain.stopReason, 'tool_use')
      const toolUse = plain.output?.message?.content?.[0]?.toolUse
      assert.equal(toolUse?.name, 'start_model_training')
      assert.deepEqual(toolUse?.input, { model_name: 'direct-1', epochs: 7 })
      assert.ok((plain.usage?.totalTokens ?? 0) > 0)
      const streamed = await client.send(
        new ConverseStreamCommand({
          ...request,
          toolConfig: undefined,
          messages: [{ role: 'user', content: [{ text: 'hello' }] }],
        }),
      )
      const events: ConverseStreamOutput[] = []
      for await (const event of streamed.stream ?? []) events.push(event)
      const text = events.flatMap((event) =>
        event.contentBlockDelta?.delta?.text ? [event.contentBlockDelta.delta.text] : [],
      )
      assert.match(text.join(''), /^\[demo model\] I am the offline demo model/)
      assert.ok(text.length > 3, 'the text arrives in several deltas')
      assert.equal(events.find((event) => event.messageStop)?.messageStop?.stopReason, 'end_turn')
      assert.ok(events.find((event) => event.metadata)?.metadata?.usage?.outputTokens)
    } finally {
      client.destroy()
    }
  })

  test('the local chat completions endpoint answers the real openai client without streaming too', async () => {
    const client = new OpenAI({ baseURL: `${stack.env.service.url}/v1`, apiKey: 'local-key' })
    const completion = await client.chat.completions.create({
      model: 'longrun-demo',
      messages: [{ role: 'user', content: 'list my tasks' }],
      tools: [{ type: 'function', function: { name: 'list_tasks', parameters: { type: 'object' } } }],
    })
    const choice = completion.choices[0]
    assert.equal(choice?.finish_reason, 'tool_calls')
    const call = choice?.message.tool_calls?.[0]
    assert.equal(call?.type === 'function' && call.function.name, 'list_tasks')
    assert.ok((completion.usage?.total_tokens ?? 0) > 0)
    // A bad request is answered in OpenAI's error shape, which the client turns into an APIError.
    await assert.rejects(
      client.chat.completions.create({ model: 'longrun-demo', messages: [] }),
      (error: unknown) =>
        error instanceof OpenAI.APIError && error.status === 400 && error.code === 'ValidationException',
    )
  })

  test('a model that cannot be reached is a MODEL_ERROR naming the provider and the URL that failed, not the key', async () => {
    // A port that was just free on loopback: nothing answers there.
    const closed = new URL(await unreachableMcpUrl()).origin
    const cases = [
      {
        variables: {
          ...providerVariables().openai,
          OPENAI_BASE_URL: `${closed}/v1`,
          OPENAI_API_KEY: 'sk-never-shown',
        },
        named: `openai at ${closed}/v1`,
      },
      {
        variables: { ...providerVariables().bedrock, BEDROCK_ENDPOINT: closed },
        named: `bedrock at ${closed}`,
      },
    ]
    for (const { variables, named } of cases) {
      const runtime = await stack.startRuntime(variables)
      const response = await fetch(`${runtime.server.url}/invocations`, {
        method: 'POST',
        headers: { [SESSION_ID_HEADER]: sessionIdFor(`unreachable-${variables.MODEL_PROVIDER}`) },
        body: JSON.stringify({ prompt: 'list my tasks' }),
      })
      assert.equal(response.status, 502)
      const { error } = (await response.json()) as { error: { code: string; message: string } }
      assert.equal(error.code, 'MODEL_ERROR')
      assert.ok(error.message.includes(named), error.message)
      assert.match(error.message, /ECONNREFUSED/)
      assert.ok(!error.message.includes('sk-never-shown'), error.message)
    }
  })

  test('a missing provider variable or credential is an error naming it, and the entrypoint refuses to start', async () => {
    const missing = (variables: Record<string, string>) => {
      try {
        modelProviderFromEnv(loadEnvironment(variables))
      } catch (error) {
        assert.ok(error instanceof ConfigError)
        return error.variables
      }
      return []
    }
    assert.deepEqual(missing({}), ['MODEL_PROVIDER'])
    assert.deepEqual(missing({ MODEL_PROVIDER: 'bedrock' }), ['BEDROCK_MODEL_ID'])
    assert.deepEqual(missing({ MODEL_PROVIDER: 'openai', OPENAI_MODEL: 'llama3' }), [
      'OPENAI_BASE_URL',
      'OPENAI_API_KEY',
    ])
    assert.deepEqual(missing({ MODEL_PROVIDER: 'demo' }), [])
    const entrypoint = new URL('../../src/entrypoint.ts', import.meta.url).pathname
    await assert.rejects(
      startServiceProcess(entrypoint, {
        PORT: '0',
        MODEL_PROVIDER: 'openai',
        OPENAI_BASE_URL: '',
        OPENAI_API_KEY: '',
        OPENAI_MODEL: '',
      }),
      /OPENAI_BASE_URL, OPENAI_API_KEY, OPENAI_MODEL/,
    )
    // No credentials anywhere in the AWS chain: Bedrock is refused at start, not at the first call.
    await assert.rejects(
      startServiceProcess(entrypoint, {
        PORT: '0',
        MODEL_PROVIDER: 'bedrock',
        BEDROCK_MODEL_ID: 'global.anthropic.claude-sonnet-4-6',
        AWS_ACCESS_KEY_ID: '',
        AWS_SECRET_ACCESS_KEY: '',
        AWS_PROFILE: '',
        AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials',
        AWS_CONFIG_FILE: '/nonexistent/config',
        AWS_EC2_METADATA_DISABLED: 'true',
      }),
      /no AWS credentials for Bedrock .*AWS_ACCESS_KEY_ID/,
    )
  })
})
