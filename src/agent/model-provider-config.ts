/**
 * Which model the agent uses: Bedrock, any OpenAI-compatible endpoint (Ollama, vLLM, llama.cpp,
 * OpenAI itself), or the offline demo model; and where it is served, for errors that must say
 * which endpoint failed. The configuration loads no model SDK: the runtime checks it before it
 * listens and builds the model (src/agent/model-provider.ts) when needed. Its entry reads it from
 * MODEL_PROVIDER and the provider's variables.
 */
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
