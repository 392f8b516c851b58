// The page's shared behaviours: polling that adapts and never overlaps, and panes that stay on
// their newest entry.
import { useEffect, useLayoutEffect, useRef } from 'preact/hooks'

/**
 * Runs `work` now, then again `delay()` ms after each run ends, while mounted, starting over when
 * `deps` change. `delay` is read after every run, so a panel polls fast while something runs and
 * slowly once all has ended. A change of `nudge` (a turn ended), or a call of the function this
 * returns, asks for a run now: after the one under way, if any, so runs never overlap and no read
 * is made twice. `work` gets a function saying whether its answer is still wanted (the view moved
 * on meanwhile).
 */
export function usePolling(work, delay, deps, nudge) {
  const latest = useRef({ work, delay })
  latest.current = { work, delay }
  const wake = useRef(() => {})
  useEffect(() => {
    let stopped = false
    let running = false
    let again = false
    let timer
    const tick = async () => {
      clearTimeout(timer)
      if (running) {
        again = true
        return
      }
      running = true
      do {
        again = false
        await latest.current.work(() => !stopped).catch(() => {})
      } while (again && !stopped)
      running = false
      if (!stopped) timer = setTimeout(tick, latest.current.delay())
    }
    wake.current = tick
    tick()
    return () => {
      stopped = true
      clearTimeout(timer)
      wake.current = () => {}
    }
  }, deps)
  const mounted = useRef(false)
  useEffect(() => {
    if (mounted.current) wake.current()
    mounted.current = true
  }, [nudge])
  return () => wake.current()
}

/** How close to the bottom (px) still counts as reading the newest entry. */
const NEAR_BOTTOM = 40

/**
 * Keeps a scroll box on its newest (last) entry when `deps` change, unless the reader scrolled
 * up to read something older. Returns the box's ref, its scroll handler, and `stick()` to go back
 * to following the newest entry (a new session).
 */
export function useStickToBottom(deps) {
  const box = useRef(null)
  const following = useRef(true)
  /** Where the box was after the last change: a move since then is the reader's. */
  const last = useRef({ top: undefined, height: 0 })
  const onScroll = () => {
    const element = box.current
    if (element)
      following.current = element.scrollHeight - element.scrollTop - element.clientHeight < NEAR_BOTTOM
  }
  useLayoutEffect(() => {
    const element = box.current
    if (!element) return
    // A move whose scroll event has not come yet (entries landed first) still counts: judged against
    // the content the reader saw.
    if (last.current.top !== undefined && element.scrollTop !== last.current.top)
      following.current = last.current.height - element.scrollTop - element.clientHeight < NEAR_BOTTOM
    if (following.current) element.scrollTop = element.scrollHeight
    last.current = { top: element.scrollTop, height: element.scrollHeight }
  }, deps)
  const stick = () => {
    following.current = true
    last.current = { top: undefined, height: 0 }
  }
  return { box, onScroll, stick }
}
