export { type EvaluateModelConfig, evaluateModelTool } from './evaluate-model.ts'
export { type ModelTrainingConfig, modelTrainingTool } from './model-training.ts'
export { textStatisticsTool } from './text-statistics.ts'
