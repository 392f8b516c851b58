/**
 * How a service process ends on SIGTERM (a container stop) or SIGINT (Ctrl-C): it closes cleanly,
 * then exits 0; 1 when closing fails or outlasts `backstopMs`, so a stuck close never hangs a stop.
 */
export function exitOnStopSignal(close: () => Promise<void>, backstopMs: number): void {
  const stop = () => {
    setTimeout(() => process.exit(1), backstopMs).unref()
    close().then(
      () => process.exit(0),
      () => process.exit(1),
    )
  }
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
}
