// The developer console's page: the chat beside the session's memory timeline, and the actor's
// background tasks, kept up to date by polling the console's API. It opens the actor's most
// recent session (the one the CLI just used, or where a result just landed). The timeline's
// entries go to the chat too, which shows the agent's continuations (it acting on a finished task
// on its own) as they happen. Preact and htm, served by the console; each panel is a module of its
// own.
import { render } from 'preact'
import { useEffect, useState } from 'preact/hooks'
import { api, query } from './api.js'
import { Chat } from './chat.js'
import { html } from './html.js'
import { usePolling } from './hooks.js'
import { Tasks } from './tasks.js'
import { Timeline } from './timeline.js'

function newSessionId() {
  return `console-${crypto.randomUUID()}`
}

/**
 * A text field for an id: what is typed stays a draft (re-renders from polling leave it alone)
 * until Enter or leaving the field commits it.
 */
function IdField({ name, value, onCommit, className, list }) {
  const [draft, setDraft] = useState(value)
  useEffect(() => setDraft(value), [value])
  const commit = () => {
    if (draft !== value) onCommit(draft)
  }
  return html`<input
    type="text"
    name=${name}
    class=${className}
    list=${list}
    value=${draft}
    onInput=${(event) => setDraft(event.target.value)}
    onBlur=${commit}
    onKeyDown=${(event) => event.key === 'Enter' && commit()}
  />`
}

function App() {
  const [config, setConfig] = useState(undefined)
  const [actorId, setActorId] = useState('')
  /** Undefined while the actor's most recent session is being looked up. */
  const [sessionId, setSessionId] = useState(undefined)
  const [sessions, setSessions] = useState([])
  const [running, setRunning] = useState(true)
  const [refresh, setRefresh] = useState(0)
  const [delivered, setDelivered] = useState([])
  /** The timeline's entries, and the actor and session they are of. */
  const [timeline, setTimeline] = useState({ of: '', items: [] })
  const [problem, setProblem] = useState(undefined)
  useEffect(() => {
    api('/api/config')
      .then((answer) => {
        setConfig(answer)
        setActorId(answer.actorId)
        setRunning(answer.runtime.running)
      })
      .catch((error) => setProblem(error.message))
  }, [])
  // Each actor opens on its most recent session; a new one when it has none.
  useEffect(() => {
    if (actorId === '') return
    let current = true
    setSessionId(undefined)
    setDelivered([])
    api(query('/api/sessions/default', { actorId }))
      .then((answer) => current && setSessionId(answer.sessionId ?? newSessionId()))
      .catch((error) => {
        if (!current) return
        setProblem(error.message)
        setSessionId(newSessionId())
      })
    return () => {
      current = false
    }
  }, [actorId])
  usePolling(
    async (wanted) => {
      if (actorId === '') return
      const answer = await api(query('/api/sessions', { actorId }))
      if (wanted()) setSessions(answer.sessions)
    },
    () => 5000,
    [actorId],
    refresh,
  )
  const [switching, setSwitching] = useState(false)
  const toggleRuntime = async () => {
    setSwitching(true)
    try {
      const answer = await api(running ? '/api/runtime/stop' : '/api/runtime/start', {})
      setRunning(answer.running)
    } catch (error) {
      setProblem(error.message)
    } finally {
      setSwitching(false)
    }
  }
  const openSession = (id) => {
    setDelivered([])
    setSessionId(id)
  }
  if (config === undefined)
    return html`<p class=${problem ? 'problem' : 'muted'}>${problem ?? 'Loading the console...'}</p>`
  const scope = sessionId === undefined ? undefined : { actorId, sessionId }
  const scopeKey = (of) => `${of.actorId}\n${of.sessionId}`
  // Undefined until the timeline has read the session in view.
  const entries = scope !== undefined && timeline.of === scopeKey(scope) ? timeline.items : undefined
  return html`<div class="shell">
    <header>
      <h1>longrun console</h1>
      <label
        >actor <${IdField} name="actor" className="actor" value=${actorId} onCommit=${setActorId}
      /></label>
      <label class="session-label"
        >session
        <${IdField}
          name="session"
          className="session"
          list="sessions"
          value=${sessionId ?? ''}
          onCommit=${openSession}
        />
        <datalist id="sessions">${sessions.map((id) => html`<option value=${id} />`)}</datalist>
      </label>
      <button onClick=${() => openSession(newSessionId())}>New session</button>
      <span class="status ${running ? 'running' : 'stopped'}" data-runtime=${running ? 'running' : 'stopped'}
        >runtime ${running ? 'running' : 'stopped'}</span
      >
      ${
        config.runtime.controllable &&
        html`<button name="runtime" disabled=${switching} onClick=${toggleRuntime}>
          ${running ? 'Stop the runtime' : 'Start the runtime'}
        </button>`
      }
      <span class="muted memory" title=${config.memoryId}>memory ${config.memoryId}</span>
    </header>
    ${problem && html`<p class="problem banner" role="alert">${problem}</p>`}
    ${
      scope === undefined
        ? html`<main><p class="muted">Opening the most recent session of ${actorId}...</p></main>`
        : html`<main>
            <${Chat} scope=${scope} timeline=${entries} onTurnEnd=${() => setRefresh((n) => n + 1)} />
            <${Timeline}
              scope=${scope}
              refresh=${refresh}
              delivered=${delivered}
              onItems=${(of, items) => setTimeline({ of: scopeKey(of), items })}
            />
            <${Tasks} scope=${scope} refresh=${refresh} onDelivered=${setDelivered} />
          </main>`
    }
  </div>`
}

render(html`<${App} />`, document.getElementById('app'))
