import { Fragment } from 'preact'
import { useEffect, useState } from 'preact/hooks'
import { ADMIN, ApiError, csvPost, importPath, json, MODES, type CheckAnswer, type Mode, type PlanLine } from '../api.ts'
import { scoped } from '../company.ts'
import { rawValue } from '../csv.ts'
import { keepImportedFile, takeNext } from '../handoff.ts'
import { navigate } from '../router.ts'
import { Scroll } from '../scroll.tsx'

const DELIMITERS: Array<[string, string]> = [['', 'Detect from the header'], [';', 'Semicolon ;'], [',', 'Comma ,'], ['\t', 'Tab'], ['|', 'Pipe |']]
const PLAN_SHOWN = 200
const DEFAULT_MAX_DELETE_PERCENT = 10

/** A first file to try: five new users of the demo company, every column of a user's card. */
export const DEMO_FILE = `__action__;loginEmail;firstName;lastName;jobTitle;department;country;language
create;ada.lovelace@demo.example.com;Ada;Lovelace;Analyst;Research;GBR;en-GB
create;alan.turing@demo.example.com;Alan;Turing;Engineer;Research;GBR;en-GB
create;grace.hopper@demo.example.com;Grace;Hopper;Admiral;Engineering;USA;en-US
create;marie.curie@demo.example.com;Marie;Curie;Chemist;Laboratory;FRA;fr-FR
create;katherine.johnson@demo.example.com;Katherine;Johnson;Mathematician;Flight;USA;en-US
`

function modeOfFile (text: string): Mode | undefined {
  const header = text.split(/\r?\n/, 1)[0] ?? ''
  if (/pbxShortNumber|pbxId/i.test(header)) return 'useranddevice'
  return undefined
}

function show (v: unknown): string {
  if (v === null || v === undefined || v === '') return '∅'
  return typeof v === 'string' ? v : JSON.stringify(v)
}

export function PlanDetails ({ line }: { line: PlanLine }) {
  const parts = []
  if (line.set && line.set.length > 0) parts.push(<span key='set'>sets {line.set.join(', ')}</span>)
  for (const [field, c] of Object.entries(line.changes ?? {})) {
    const cleared = c.to === null || c.to === '' || (Array.isArray(c.to) && c.to.length === 0)
    parts.push(
      <span key={field} class={cleared ? 'change cleared' : 'change'}>
        {field}: {show(c.from)} → {show(c.to)}{cleared && <strong> (cleared)</strong>}
      </span>
    )
  }
  if (line.device) parts.push(<span key='device'>{line.device.outcome} {[line.device.pbxId, line.device.shortNumber].filter(Boolean).join(' ')}</span>)
  if (line.errorMsg) parts.push(<span key='err' class='bad'>{line.errorMsg}</span>)
  return <>{parts.length > 0 ? parts.map((p, i) => <Fragment key={i}>{i > 0 && '; '}{p}</Fragment>) : '—'}</>
}

/** Deletions the import would make: the server's count when it gives one, else the plan's. */
export function deletionsOf (check: CheckAnswer): number {
  if (check.deletionSafeguard) return check.deletionSafeguard.deletions
  return (check.plan ?? []).filter((l) => l.status !== 'failed' && (l.outcome === 'delete' || l.outcome === 'remove')).length
}

export function ImportPage () {
  const [mode, setMode] = useState<Mode>('user')
  const [delimiter, setDelimiter] = useState('')
  const [nostrict, setNostrict] = useState(false)
  const [noemails, setNoemails] = useState(false)
  const [label, setLabel] = useState('')
  const [fileName, setFileName] = useState('')
  const [text, setText] = useState('')
  const [check, setCheck] = useState<CheckAnswer>()
  const [checkedText, setCheckedText] = useState('')
  const [busy, setBusy] = useState<'check' | 'import' | undefined>()
  const [error, setError] = useState<string>()
  const [companyUsers, setCompanyUsers] = useState<number>()
  const [typed, setTyped] = useState('')
  const [mustType, setMustType] = useState(false)
  const [showAll, setShowAll] = useState(false)
  const [dragging, setDragging] = useState(false)

  useEffect(() => {
    const next = takeNext()
    if (next) { setText(next.text); setFileName(next.name); setMode(modeOfFile(next.text) ?? 'user') }
  }, [])

  const load = async (file: File) => {
    const t = await file.text()
    setFileName(file.name)
    setText(t)
    setCheck(undefined)
    setError(undefined)
    const guessed = modeOfFile(t)
    if (guessed) setMode(guessed)
  }

  const options = () => ({ delimiter: delimiter || undefined, nostrict: nostrict ? 'true' : undefined })

  const runCheck = async () => {
    setBusy('check'); setError(undefined); setCheck(undefined); setTyped(''); setMustType(false); setShowAll(false)
    try {
      const answer = await csvPost(`${importPath(mode)}/check`, text, options()) as { data: CheckAnswer }
      setCheck(answer.data)
      setCheckedText(text)
      if (!answer.data.deletionSafeguard && deletionsOf(answer.data) > 0) {
        const users = await json<{ total: number }>(scoped(`${ADMIN}/users?limit=1`))
        setCompanyUsers(users.total)
      }
    } catch (e) {
      setError((e as Error).message)
    } finally {
      setBusy(undefined)
    }
  }

  const deletions = check ? deletionsOf(check) : 0
  const safeguard = check?.deletionSafeguard
  const confirmationRequired = mustType || (safeguard
    ? safeguard.confirmationRequired
    : deletions > 0 && companyUsers !== undefined && deletions * 100 > companyUsers * DEFAULT_MAX_DELETE_PERCENT)
  const confirmed = !confirmationRequired || typed.trim() === String(deletions)

  const runImport = async () => {
    setBusy('import'); setError(undefined)
    try {
      const answer = await csvPost(importPath(mode), checkedText, {
        ...options(),
        label: label || undefined,
        noemails: noemails ? 'true' : undefined,
        confirmDeletes: confirmationRequired ? String(deletions) : undefined,
      }) as { data: { reqId: string } }
      keepImportedFile(answer.data.reqId, checkedText)
      navigate(`imports/${encodeURIComponent(answer.data.reqId)}/progress`)
    } catch (e) {
      if (e instanceof ApiError && e.code === 409630) {
        setMustType(true)
        setError(`The server refused the import: it deletes more than the allowed share of the company's users. Type ${deletions} to confirm. (${e.message})`)
      } else setError((e as Error).message)
    } finally {
      setBusy(undefined)
    }
  }

  const failing = check ? new Set([...check.errors.map((e) => e.lineNumber), ...(check.plan ?? []).filter((l) => l.status === 'failed').map((l) => l.lineNumber)]).size : 0
  const lines = check?.plan?.length ?? 0
  const plan = check?.plan ?? []
  const stale = check !== undefined && text !== checkedText

  return (
    <section aria-labelledby='import-title'>
      <h1 id='import-title' tabIndex={-1}>Import a file</h1>
      <div class='panel'>
        <div
          class={dragging ? 'drop dragging' : 'drop'}
          onDragOver={(e) => { e.preventDefault(); setDragging(true) }}
          onDragLeave={() => setDragging(false)}
          onDrop={(e) => { e.preventDefault(); setDragging(false); const f = e.dataTransfer?.files[0]; if (f) void load(f) }}
        >
          <label for='file'>Drop a CSV file here, or choose one</label>
          <input id='file' type='file' accept='.csv,text/csv,text/plain' onChange={(e) => { const f = (e.currentTarget as HTMLInputElement).files?.[0]; if (f) void load(f) }} />
          <p><button type='button' onClick={() => { setText(DEMO_FILE); setFileName('demo.csv'); setMode('user'); setCheck(undefined); setError(undefined) }}>Load a demo file</button></p>
          {fileName && <p class='hint'>File: <strong>{fileName}</strong> ({text.split(/\r?\n/).filter((l) => l.trim() !== '').length - 1} lines)</p>}
        </div>
        <div class='grid'>
          <label>Mode
            <select value={mode} onChange={(e) => setMode((e.currentTarget as HTMLSelectElement).value as Mode)}>
              {MODES.map((m) => <option key={m} value={m}>{m}</option>)}
            </select>
          </label>
          <label>Delimiter
            <select value={delimiter} onChange={(e) => setDelimiter((e.currentTarget as HTMLSelectElement).value)}>
              {DELIMITERS.map(([v, l]) => <option key={l} value={v}>{l}</option>)}
            </select>
          </label>
          <label>Label
            <input type='text' value={label} maxLength={256} onInput={(e) => setLabel((e.currentTarget as HTMLInputElement).value)} />
          </label>
          <label class='check'><input type='checkbox' checked={nostrict} onChange={(e) => setNostrict((e.currentTarget as HTMLInputElement).checked)} /> nostrict (create of an existing user updates it)</label>
          <label class='check'><input type='checkbox' checked={noemails} onChange={(e) => setNoemails((e.currentTarget as HTMLInputElement).checked)} /> noemails</label>
        </div>
        <details open={text !== '' && (check?.errors.length ?? 0) > 0}>
          <summary>Edit the file</summary>
          <label for='content' class='sr-only'>File content</label>
          <textarea id='content' rows={8} spellcheck={false} value={text} onInput={(e) => setText((e.currentTarget as HTMLTextAreaElement).value)} />
        </details>
        <button type='button' class='primary' disabled={text.trim() === '' || busy !== undefined} onClick={() => { void runCheck() }}>
          {busy === 'check' ? 'Checking…' : 'Check the file'}
        </button>
      </div>

      {error && <p class='error' role='alert'>{error}</p>}

      {check && (
        <div class='result'>
          <h2>What this file would do</h2>
          <ul class='counts' aria-label='Counts'>
            <li><strong data-testid='count-lines'>{lines}</strong> lines</li>
            {Object.entries(check.actions).map(([k, v]) => <li key={k}><strong>{v}</strong> {k}</li>)}
            <li class={check.errors.length > 0 ? 'bad' : ''}><strong data-testid='count-errors'>{check.errors.length}</strong> errors</li>
            <li class={failing > 0 ? 'bad' : ''}><strong>{failing}</strong> failing lines</li>
          </ul>
          {stale && <p class='warn' role='status'>The file changed since this check: check it again.</p>}

          {check.errors.length > 0 && (
            <Scroll label='Errors'>
              <table class='errors'>
                <caption>Errors in the file</caption>
                <thead><tr><th scope='col'>Line</th><th scope='col'>Column</th><th scope='col'>Code</th><th scope='col'>Message</th><th scope='col'>Value</th></tr></thead>
                <tbody>
                  {check.errors.map((e, i) => (
                    <tr key={i}>
                      <td>{e.lineNumber}</td><td>{e.column ?? ''}</td><td>{e.code}</td><td>{e.message}</td>
                      <td><code>{rawValue(checkedText, e.lineNumber, e.column, delimiter || undefined)}</code></td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </Scroll>
          )}

          {plan.length > 0 && (
            <Scroll label='Plan'>
              <table class='plan'>
                <caption>Plan, line by line{plan.length > PLAN_SHOWN && !showAll ? ` (first ${PLAN_SHOWN} of ${plan.length})` : ''}</caption>
                <thead><tr><th scope='col'>Line</th><th scope='col'>Action</th><th scope='col'>Login</th><th scope='col'>Outcome</th><th scope='col'>Old → new</th></tr></thead>
                <tbody>
                  {(showAll ? plan : plan.slice(0, PLAN_SHOWN)).map((l) => (
                    <tr key={l.lineNumber} class={l.status === 'failed' ? 'failed' : ''}>
                      <td>{l.lineNumber}</td><td>{l.action}</td><td>{l.loginEmail}</td><td>{l.outcome}</td><td><PlanDetails line={l} /></td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </Scroll>
          )}
          {plan.length > PLAN_SHOWN && !showAll && <button type='button' onClick={() => setShowAll(true)}>Show all {plan.length} lines</button>}

          <div class='confirm panel'>
            <h2>Import</h2>
            {failing > 0 && <p class='warn'>{failing} line(s) will fail; the others are applied.</p>}
            <p data-testid='deletions'>
              {deletions === 0 ? 'This import deletes no user.' : `This import deletes ${deletions} user${deletions > 1 ? 's' : ''}${safeguard ? ` of the company's ${safeguard.companyUsers}` : companyUsers !== undefined ? ` of the company's ${companyUsers}` : ''}.`}
            </p>
            {confirmationRequired && (
              <label>That is more than {safeguard?.maxDeletePercent ?? DEFAULT_MAX_DELETE_PERCENT} % of the company's users. Type {deletions} to confirm
                <input type='text' inputMode='numeric' value={typed} onInput={(e) => setTyped((e.currentTarget as HTMLInputElement).value)} />
              </label>
            )}
            <button type='button' class='primary' disabled={!confirmed || stale || busy !== undefined || lines === 0} onClick={() => { void runImport() }}>
              {busy === 'import' ? 'Starting…' : `Import ${lines} line${lines === 1 ? '' : 's'}`}
            </button>
          </div>
        </div>
      )}
    </section>
  )
}
