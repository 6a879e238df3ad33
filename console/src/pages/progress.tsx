import { useEffect, useRef, useState } from 'preact/hooks'
import { call, details, MP, type ImportView } from '../api.ts'
import { scoped } from '../company.ts'
import { linkProps } from '../router.ts'

function duration (seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '—'
  if (seconds < 60) return `${Math.ceil(seconds)} s`
  const m = Math.floor(seconds / 60)
  return `${m} min ${Math.round(seconds - m * 60)} s`
}

/** An import as it goes: polled every second until it ends. */
export function ProgressPage ({ reqId }: { reqId: string }) {
  const [view, setView] = useState<ImportView>()
  const [error, setError] = useState<string>()
  const [cancelling, setCancelling] = useState(false)
  const first = useRef<{ at: number, done: number } | undefined>(undefined)

  useEffect(() => {
    let stop = false
    let timer: ReturnType<typeof setTimeout> | undefined
    const poll = async () => {
      try {
        const v = await details(reqId, 'small')
        if (stop) return
        setView(v)
        first.current ??= { at: Date.now(), done: v.counters.processed ?? 0 }
        if (v.status === 'Pending') timer = setTimeout(() => { void poll() }, 1000)
      } catch (e) {
        if (!stop) setError((e as Error).message)
      }
    }
    void poll()
    return () => { stop = true; clearTimeout(timer) }
  }, [reqId])

  const cancel = async () => {
    setCancelling(true)
    try {
      const r = await call(scoped(`${MP}/users/imports/${encodeURIComponent(reqId)}/cancel`), { method: 'POST' })
      setView(((await r.json()) as { data: ImportView }).data)
    } catch (e) {
      setError((e as Error).message)
    } finally {
      setCancelling(false)
    }
  }

  const c = view?.counters
  const total = c?.total ?? 0
  const done = view ? (view.status === 'Pending' ? (c?.processed ?? 0) : (c ? c.succeeded + c.failed : 0)) : 0
  const percent = total > 0 ? Math.floor((done * 100) / total) : (view && view.status !== 'Pending' ? 100 : 0)
  const elapsed = first.current ? (Date.now() - first.current.at) / 1000 : 0
  const rate = elapsed > 0 && first.current ? (done - first.current.done) / elapsed : 0
  const left = rate > 0 ? (total - done) / rate : NaN

  return (
    <section aria-labelledby='progress-title'>
      <h1 id='progress-title' tabIndex={-1}>Import in progress</h1>
      <p class='hint'>Request <code>{reqId}</code>{view?.label ? <> — {view.label}</> : null}</p>
      {error && <p class='error' role='alert'>{error}</p>}
      {view && (
        <div class='panel'>
          <label for='bar'>Lines done</label>
          <progress id='bar' max={Math.max(total, 1)} value={Math.min(done, Math.max(total, 1))} aria-valuetext={`${done} of ${total} lines`} />
          <p role='status' data-testid='progress-text'><strong>{done} / {total}</strong> lines ({percent} %) · status <strong data-testid='status'>{view.status}</strong></p>
          {view.status === 'Pending'
            ? <p>Rate {rate > 0 ? `${rate.toFixed(0)} lines/s` : '—'} · time left {duration(left)}</p>
            : <p>{c?.succeeded ?? 0} succeeded, {c?.failed ?? 0} failed, {c?.warnings ?? 0} warnings{view.errorMsg ? ` — ${view.errorMsg}` : ''}</p>}
          <div class='actions'>
            {view.status === 'Pending' && <button type='button' class='danger' disabled={cancelling} onClick={() => { void cancel() }}>{cancelling ? 'Cancelling…' : 'Cancel the import'}</button>}
            {view.status !== 'Pending' && <a class='button primary' {...linkProps(`reports/${encodeURIComponent(reqId)}`)}>View the report</a>}
          </div>
        </div>
      )}
    </section>
  )
}
