/**
 * The offline demo model: deterministic decisions over the Converse message format, served as a
 * Strands model (MODEL_PROVIDER=demo) and by the local Bedrock and OpenAI endpoints.
 */
export { DEMO_MODEL_ID, DemoModel } from './demo-model.ts'
export {
  DEMO_LABEL,
  type DemoContentBlock,
  type DemoDecision,
  type DemoMessage,
  decideDemoTurn,
  estimateTokens,
  textDeltas,
} from './demo-policy.ts'
