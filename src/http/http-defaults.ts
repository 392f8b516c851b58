/**
 * The HTTP layer's defaults, defined once for the four servers (runtime, MCP server, local
 * AgentCore service, console).
 */
export const HTTP_DEFAULTS = {
  /**
   * Idle keep-alive of a connection: longer than any load balancer's idle timeout (60 s on ALB and
   * AgentCore's proxy), so a reused connection is never cut under a request.
   */
  keepAliveTimeoutMs: 65_000,
  /**
   * How much of a refused request's body is read and thrown away so its sender reads the refusal;
   * past it the connection is closed instead.
   */
  drainBytes: 64 * 1024 * 1024,
} as const
