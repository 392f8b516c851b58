/** The developer console: its backend over the public clients, and its HTTP server with the page. */
export {
  ConsoleApi,
  type ConsoleApiConfig,
  type ConsoleScope,
  type RuntimeControl,
  SerialRuntimeControl,
  TaskToolError,
  type TimelineItem,
} from './console-api.ts'
export { ConsoleError, ConsoleServer, type ConsoleServerConfig } from './console-server.ts'
