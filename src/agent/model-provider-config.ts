/**
 * Which model the agent uses, chosen by MODEL_PROVIDER: Bedrock, any OpenAI-compatible endpoint
 * (Ollama, vLLM, llama.cpp, OpenAI itself), or the offline demo model; and where it is served, for
 * errors that must say which endpoint failed. Reading the choice loads no model SDK: the runtime
 * checks it before it listens and builds the model (src/agent/model-provider.ts) when needed.
 */
import { ConfigError, type Environment } from '../config.ts'

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

function required(value: string | undefined, name: string, what: string): string {
  if (value === undefined) throw new ConfigError(`${name} is not set: give ${what}`, [name])
  return value
}

/**
 * Where the model is served, as an error may show it: the provider and its endpoint URL (Bedrock's
 * region when the AWS endpoint is used). A URL keeps only its origin and path: user info and query
 * can hold keys.
 */
export function describeModelEndpoint(config: ModelProviderConfig): string {
  if (config.provider === 'demo') return 'the demo model'
  if (config.provider === 'openai') return `openai at ${publicUrl(config.baseUrl)}`
  if (config.endpoint !== undefined) return `bedrock at ${publicUrl(config.endpoint)}`
  return `bedrock in region ${config.region}`
}

function publicUrl(url: string): string {
  try {
    const parsed = new URL(url)
    return `${parsed.origin}${parsed.pathname === '/' ? '' : parsed.pathname}`
  } catch {
    return '(an endpoint that is not a URL)'
  }
}
