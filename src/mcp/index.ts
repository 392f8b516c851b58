export {
  COMPOSITE_SESSION_SEPARATOR,
  type CompositeSessionField,
  CompositeSessionHeaderError,
  type CompositeSessionParts,
  formatCompositeSessionHeader,
  isCompositeSessionHeader,
  parseCompositeSessionHeader,
} from './composite-session-header.ts'
