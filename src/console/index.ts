/** The developer console: its backend over the public clients, and its HTTP server with the page. */
export {
  type ChatInput,
  ConsoleApi,
  type ConsoleApiConfig,
  type ConsoleScope,
  type ConsoleTask,
  type RuntimeControl,
  SerialRuntimeControl,
  type TaskResult,
} from './console-api.ts'
export { type CliSession, type DefaultSession } from './actor-sessions.ts'
export { ConsoleError } from './console-error.ts'
export { ConsoleServer, type ConsoleServerConfig } from './console-server.ts'
export { type ResultValues } from './result-values.ts'
export { TaskToolError } from './task-tool-error.ts'
export { type TimelineItem, type TimelinePage } from './timeline-reader.ts'
