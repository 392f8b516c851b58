// The developer console's page: chat with the agent, the actor's tasks and the session's memory
// timeline, kept up to date by polling the console's API. Preact and htm, served by the console.
import { h, render } from 'preact'
import { useCallback, useEffect, useRef, useState } from 'preact/hooks'
import htm from 'htm'

const html = htm.bind(h)
const token = new URLSearchParams(location.hash.slice(1)).get('token') ?? ''

/** Calls the console API; rejects with the API's own error message. */
async function api(path, body) {
  const response = await fetch(path, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  })
  const answer = await response.json()
  if (!response.ok) throw new Error(answer.error?.message ?? `HTTP ${response.status}`)
  return answer
}

/** The runtime's events of one turn, as they arrive (`data: {...}` frames). */
async function* chatEvents(body, signal) {
  const response = await fetch('/api/chat', {
    signal,
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  if (!response.ok) {
    const answer = await response.json()
    yield { type: 'error', code: answer.error?.code ?? 'ERROR', message: answer.error?.message ?? '' }
    return
  }
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader()
  let buffer = ''
  for (;;) {
    const { value, done } = await reader.read()
    if (done) return
    buffer += value
    let end
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const frame = buffer.slice(0, end)
      buffer = buffer.slice(end + 2)
      const data = frame
        .split('\n')
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(5).trimStart())
        .join('\n')
      if (data !== '') yield JSON.parse(data)
    }
  }
}

function newSessionId() {
  return `console-${crypto.randomUUID()}`
}

/** Runs `work` now and every `ms` while mounted (and again when `deps` change). */
function usePolling(work, ms, deps) {
  useEffect(() => {
    let stopped = false
    // `work` gets a function saying whether its answer is still wanted (the view moved on).
    const tick = async () => {
      if (!stopped) await work(() => !stopped).catch(() => {})
    }
    tick()
    const timer = setInterval(tick, ms)
    return () => {
      stopped = true
      clearInterval(timer)
    }
  }, deps)
}

function time(iso) {
  return iso ? new Date(iso).toLocaleTimeString() : ''
}

function Progress({ progress, total }) {
  if (progress === null || progress === undefined) return null
  const max = total ?? 100
  return html`<div>
    <progress value=${progress} max=${max}></progress>
    <span class="muted">${progress}${total ? ` / ${total}` : ''}</span>
  </div>`
}

function Chat({ scope, onTurnEnd }) {
  const [turns, setTurns] = useState([])
  const [prompt, setPrompt] = useState('')
  const [busy, setBusy] = useState(false)
  const list = useRef(null)
  /** The answer being streamed, stopped when the session or actor changes. */
  const streaming = useRef(undefined)
  const nextTurn = useRef(0)
  useEffect(() => {
    streaming.current?.abort()
    setTurns([])
  }, [scope.sessionId, scope.actorId])
  useEffect(() => {
    if (list.current) list.current.scrollTop = list.current.scrollHeight
  }, [turns])
  const send = async (event) => {
    event.preventDefault()
    const id = (nextTurn.current += 1)
    const stop = new AbortController()
    streaming.current = stop
    // Each event updates its own turn; one from a session left behind finds none and is dropped.
    const update = (change) => setTurns((all) => all.map((turn) => (turn.id === id ? change(turn) : turn)))
    setBusy(true)
    setTurns((all) => [...all, { id, prompt, text: '', tools: [], error: undefined }])
    setPrompt('')
    try {
      for await (const item of chatEvents({ ...scope, prompt }, stop.signal)) {
        if (item.type === 'text') update((turn) => ({ ...turn, text: turn.text + item.text }))
        else if (item.type === 'tool_start')
          update((turn) => ({
            ...turn,
            tools: [...turn.tools, { id: item.tool_use_id, tool: item.tool, status: 'running' }],
          }))
        else if (item.type === 'task_started')
          update((turn) => ({ ...turn, tools: withTaskId(turn.tools, item) }))
        else if (item.type === 'tool_progress' || item.type === 'tool_end')
          update((turn) => ({ ...turn, tools: turn.tools.map((tool) => toolAfter(tool, item)) }))
        else if (item.type === 'error') update((turn) => ({ ...turn, error: errorText(item) }))
      }
    } catch (error) {
      if (!stop.signal.aborted) update((turn) => ({ ...turn, error: String(error.message ?? error) }))
    } finally {
      if (streaming.current === stop) streaming.current = undefined
      setBusy(false)
      onTurnEnd()
    }
  }
  return html`<section>
    <h2>Chat</h2>
    <div class="messages" ref=${list}>
      ${turns.length === 0 && html`<p class="muted">Ask for something long: "train a model called fraud-v1 for 30 epochs".</p>`}
      ${turns.map(
        (turn) =>
          html`<div key=${turn.id}>
            <div class="message user">${turn.prompt}</div>
            ${turn.tools.map(
              (tool) =>
                html`<div class="tool" data-tool=${tool.tool}>
                  <strong>${tool.tool}</strong> <span class="muted">${tool.status}</span>
                  ${tool.taskId && html` <span class="muted">task <code>${tool.taskId}</code></span>`}
                  <${Progress} progress=${tool.progress} total=${tool.total} />
                  ${tool.message && html`<div class="muted">${tool.message}</div>`}
                </div>`,
            )}
            ${turn.text && html`<div class="message agent">${turn.text}</div>`}
            ${turn.error && html`<div class="message error" role="alert">${turn.error}</div>`}
          </div>`,
      )}
    </div>
    <form class="ask" onSubmit=${send}>
      <input
        type="text"
        name="prompt"
        placeholder="Message the agent"
        value=${prompt}
        onInput=${(event) => setPrompt(event.target.value)}
      />
      <button class="primary" type="submit" disabled=${busy}>${busy ? 'Answering...' : 'Send'}</button>
    </form>
  </section>`
}

/** An error event as one line: its code, then its message (which may already start with the code). */
function errorText(item) {
  return item.message.startsWith(item.code) ? item.message : `${item.code}: ${item.message}`
}

/** The started task's id goes to the first call of that tool still without one. */
function withTaskId(tools, item) {
  const index = tools.findIndex((tool) => tool.tool === item.tool && tool.taskId === undefined)
  return tools.map((tool, at) => (at === index ? { ...tool, taskId: item.task_id } : tool))
}

/** A call after a progress or end event: matched by call id, or by tool name when there is none. */
function toolAfter(tool, item) {
  const mine = item.tool_use_id !== undefined ? item.tool_use_id === tool.id : item.tool === tool.tool
  if (!mine) return tool
  if (item.type === 'tool_end') return { ...tool, status: item.status === 'success' ? 'done' : 'failed' }
  return { ...tool, progress: item.progress, total: item.total, message: item.message }
}

const ENDED = ['completed', 'failed', 'cancelled']

/** When a task started and ended, and where its memory event stands, in one line. */
function taskTimes(task) {
  const ended = ENDED.includes(task.status) ? ` · ended ${time(task.updated_at)}` : ''
  return `started ${time(task.created_at)}${ended} · delivery ${task.delivery?.state ?? 'none'}`
}

function Tasks({ scope, refresh }) {
  const [tasks, setTasks] = useState([])
  const [results, setResults] = useState({})
  const [problem, setProblem] = useState(undefined)
  const load = useCallback(
    async (wanted = () => true) => {
      try {
        const answer = await api(`/api/tasks?${new URLSearchParams(scope)}`)
        if (!wanted()) return
        setTasks(answer.tasks)
        setProblem(undefined)
        for (const task of answer.tasks) {
          if (ENDED.includes(task.status)) {
            setResults((known) => {
              if (task.task_id in known) return known
              api(`/api/tasks/result?${new URLSearchParams({ ...scope, taskId: task.task_id })}`)
                .then((result) => setResults((now) => ({ ...now, [task.task_id]: result.text })))
                // Not fetched this time: the next poll tries again.
                .catch(() =>
                  setResults((now) => {
                    const { [task.task_id]: _failed, ...rest } = now
                    return rest
                  }),
                )
              return { ...known, [task.task_id]: '' }
            })
          }
        }
      } catch (error) {
        setProblem(error.message)
      }
    },
    [scope.actorId, scope.sessionId],
  )
  usePolling(load, 1000, [load, refresh])
  const cancel = async (taskId) => {
    await api('/api/tasks/cancel', { ...scope, taskId }).catch((error) => setProblem(error.message))
    load()
  }
  return html`<section>
    <h2>Tasks of ${scope.actorId}</h2>
    ${problem && html`<p class="problem" role="alert">${problem}</p>`}
    ${tasks.length === 0 && html`<p class="muted">No background tasks yet.</p>`}
    ${tasks.map(
      (task) =>
        html`<div class="task" key=${task.task_id} data-task-id=${task.task_id} data-status=${task.status}>
          <div class="head">
            <span><strong>${task.tool}</strong> <code>${task.task_id}</code></span>
            <span class="status ${task.status}"
              >${task.status}${task.queue_position ? ` #${task.queue_position}` : ''}</span
            >
          </div>
          <${Progress} progress=${task.progress} total=${task.total} />
          ${task.status_message && html`<div class="muted">${task.status_message}</div>`}
          <div class="muted">${taskTimes(task)}</div>
          ${
            (task.status === 'working' || task.status === 'queued') &&
            html`<button onClick=${() => cancel(task.task_id)}>Cancel</button>`
          }
          ${results[task.task_id] && html`<div class="result">${results[task.task_id]}</div>`}
        </div>`,
    )}
  </section>`
}

function Timeline({ scope, refresh }) {
  const [items, setItems] = useState([])
  const [open, setOpen] = useState({})
  const [problem, setProblem] = useState(undefined)
  const load = useCallback(
    async (wanted = () => true) => {
      try {
        const answer = await api(`/api/timeline?${new URLSearchParams(scope)}`)
        if (!wanted()) return
        setItems(answer.items)
        setProblem(undefined)
      } catch (error) {
        setProblem(error.message)
      }
    },
    [scope.actorId, scope.sessionId],
  )
  usePolling(load, 1500, [load, refresh])
  return html`<section>
    <h2>Memory timeline</h2>
    ${problem && html`<p class="problem" role="alert">${problem}</p>`}
    ${items.length === 0 && html`<p class="muted">No events in this session yet.</p>`}
    <div class="timeline">
      ${items.map(
        (item, index) =>
          html`<div class="entry" key=${index} data-author=${item.author}>
            <span class="muted">${time(item.time)}</span>
            <span class="who ${item.author.replace(' ', '-')}"> ${item.author}</span>
            <span class="text">${item.text}</span>
            <div>
              <button onClick=${() => setOpen((now) => ({ ...now, [index]: !now[index] }))}>
                ${open[index] ? 'hide raw' : 'raw'}
              </button>
            </div>
            ${open[index] && html`<pre>${JSON.stringify(item.raw, null, 2)}</pre>`}
          </div>`,
      )}
    </div>
  </section>`
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
  const [sessionId, setSessionId] = useState(newSessionId())
  const [sessions, setSessions] = useState([])
  const [running, setRunning] = useState(true)
  const [refresh, setRefresh] = useState(0)
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
  usePolling(
    async (wanted) => {
      if (actorId === '') return
      const answer = await api(`/api/sessions?${new URLSearchParams({ actorId })}`)
      if (wanted()) setSessions(answer.sessions)
    },
    3000,
    [actorId, refresh],
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
  if (config === undefined)
    return html`<p class=${problem ? 'problem' : 'muted'}>${problem ?? 'Loading the console...'}</p>`
  const scope = { actorId, sessionId }
  return html`<div>
    <header>
      <h1>longrun console</h1>
      <label>actor <${IdField} name="actor" value=${actorId} onCommit=${setActorId} /></label>
      <label
        >session
        <${IdField}
          name="session"
          className="session"
          list="sessions"
          value=${sessionId}
          onCommit=${setSessionId}
        />
        <datalist id="sessions">${sessions.map((id) => html`<option value=${id} />`)}</datalist>
      </label>
      <button onClick=${() => setSessionId(newSessionId())}>New session</button>
      <span class="muted">memory ${config.memoryId}</span>
      <span class="status ${running ? 'running' : 'stopped'}" data-runtime=${running ? 'running' : 'stopped'}
        >runtime ${running ? 'running' : 'stopped'}</span
      >
      ${
        config.runtime.controllable &&
        html`<button name="runtime" disabled=${switching} onClick=${toggleRuntime}>
          ${running ? 'Stop the runtime' : 'Start the runtime'}
        </button>`
      }
      ${problem && html`<span class="problem" role="alert">${problem}</span>`}
    </header>
    <main>
      <${Chat} scope=${scope} onTurnEnd=${() => setRefresh((n) => n + 1)} />
      <div class="side">
        <${Tasks} scope=${scope} refresh=${refresh} />
        <${Timeline} scope=${scope} refresh=${refresh} />
      </div>
    </main>
  </div>`
}

render(html`<${App} />`, document.getElementById('app'))
