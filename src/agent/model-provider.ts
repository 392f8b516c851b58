/**
 * The model behind the agent, chosen by MODEL_PROVIDER: Bedrock (ConverseStream over
 * `@aws-sdk/client-bedrock-runtime`), any OpenAI-compatible endpoint (Ollama, vLLM, llama.cpp,
 * OpenAI itself), or the offline demo model. Built once per process and shared by its invocations.
 */
import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime'
import type { Model } from '@strands-agents/sdk'
import { BedrockModel } from '@strands-agents/sdk'
import { ConfigError, type Environment } from '../config.ts'
import { DemoModel } from '../demo-model/index.ts'

/** Static AWS credentials (the local service accepts any pair). */
export interface StaticCredentials {
  readonly accessKeyId: string
  readonly secretAccessKey: string
}

/** Which model to build, with everything it needs. */
export type ModelProviderConfig =
  | {
      readonly provider: 'bedrock'
      readonly modelId: string
      readonly region: string
      /** Another Bedrock Runtime endpoint (the local service's); AWS's when absent. */
      readonly endpoint?: string
      /** The default AWS credential chain when absent. */
      readonly credentials?: StaticCredentials
    }
  | {
      readonly provider: 'openai'
      readonly baseUrl: string
      readonly apiKey: string
      readonly modelId: string
    }
  | { readonly provider: 'demo' }

export type ModelProvider = ModelProviderConfig['provider']

/**
 * The provider configuration from the environment. A provider's missing variable is a
 * {@link ConfigError} naming it, so a runtime never starts half-configured. `fallback` is the
 * provider used when MODEL_PROVIDER is unset (`longrun dev` passes `demo`); without one, unset is
 * an error too.
 */
export function modelProviderFromEnv(env: Environment, fallback?: ModelProvider): ModelProviderConfig {
  const provider = env.MODEL_PROVIDER ?? fallback
  if (provider === undefined) {
    throw new ConfigError('MODEL_PROVIDER is not set: set it to bedrock, openai or demo', ['MODEL_PROVIDER'])
  }
  if (provider === 'demo') return { provider }
  if (provider === 'bedrock') {
    const modelId = required(
      env.BEDROCK_MODEL_ID,
      'BEDROCK_MODEL_ID',
      'the Bedrock model or inference profile id, e.g. global.anthropic.claude-sonnet-4-6',
    )
    return {
      provider,
      modelId,
      region: env.AWS_REGION,
      ...(env.BEDROCK_ENDPOINT !== undefined && { endpoint: env.BEDROCK_ENDPOINT }),
    }
  }
  const missing = (
    [
      ['OPENAI_BASE_URL', env.OPENAI_BASE_URL],
      ['OPENAI_API_KEY', env.OPENAI_API_KEY],
      ['OPENAI_MODEL', env.OPENAI_MODEL],
    ] as const
  ).flatMap(([name, value]) => (value === undefined ? [name] : []))
  if (missing.length > 0) {
    throw new ConfigError(
      `MODEL_PROVIDER=openai needs ${missing.join(', ')} (an OpenAI-compatible endpoint such as http://127.0.0.1:11434/v1 for Ollama, its API key - any text for a local server - and the model name)`,
      missing,
    )
  }
  return {
    provider,
    baseUrl: env.OPENAI_BASE_URL as string,
    apiKey: env.OPENAI_API_KEY as string,
    modelId: env.OPENAI_MODEL as string,
  }
}

/** Resolves the credentials a Bedrock client of `config` would use; throws a ConfigError when there are none. */
async function resolveAwsCredentials(
  config: Extract<ModelProviderConfig, { provider: 'bedrock' }>,
): Promise<void> {
  const client = new BedrockRuntimeClient({
    region: config.region,
    ...(config.credentials !== undefined && { credentials: config.credentials }),
  })
  try {
    await client.config.credentials()
  } catch (error) {
    throw new ConfigError(
      `no AWS credentials for Bedrock (${(error as Error).name}): set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, or run with an IAM role`,
      ['AWS_ACCESS_KEY_ID', 'AWS_PROFILE'],
    )
  } finally {
    client.destroy()
  }
}

function required(value: string | undefined, name: string, what: string): string {
  if (value === undefined) throw new ConfigError(`${name} is not set: give ${what}`, [name])
  return value
}

/**
 * Builds the model. For Bedrock the AWS credential chain is resolved first, so missing credentials
 * fail at start (naming the variables) instead of at the first model call. The OpenAI client is
 * loaded only when that provider is chosen.
 */
export async function createModel(config: ModelProviderConfig): Promise<Model> {
  if (config.provider === 'demo') return new DemoModel()
  if (config.provider === 'bedrock') {
    await resolveAwsCredentials(config)
    return new BedrockModel({
      modelId: config.modelId,
      region: config.region,
      clientConfig: {
        ...(config.endpoint !== undefined && { endpoint: config.endpoint }),
        ...(config.credentials !== undefined && { credentials: config.credentials }),
      },
    })
  }
  const { OpenAIModel } = await import('@strands-agents/sdk/models/openai')
  return new OpenAIModel({
    // Chat Completions is what OpenAI-compatible servers (Ollama, vLLM, llama.cpp) all speak.
    api: 'chat',
    modelId: config.modelId,
    apiKey: config.apiKey,
    clientConfig: { baseURL: config.baseUrl },
    // Strands 1.19's chat path keeps only the last of parallel tool calls: ask for one at a time.
    params: { parallel_tool_calls: false },
  })
}
