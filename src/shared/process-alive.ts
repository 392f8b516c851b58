/** Whether a process of this machine still exists, for files and leases that name one by pid. */

/** True when a process with this id exists here (EPERM: it exists, owned by another user). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}
