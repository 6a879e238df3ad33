import { useEffect, useState } from 'preact/hooks'
import { call, MODES, MP, type Mode } from '../api.ts'
import { scoped } from '../company.ts'

/** Each mode's CSV template, as the server generates it from the columns it validates. */
export function TemplatesPage () {
  const [mode, setMode] = useState<Mode>('user')
  const [text, setText] = useState('')
  const [error, setError] = useState<string>()
  useEffect(() => {
    setError(undefined)
    call(scoped(`${MP}/users/template?mode=${mode}`)).then((r) => r.text()).then(setText).catch((e: unknown) => setError((e as Error).message))
  }, [mode])
  const href = `data:text/csv;charset=utf-8,${encodeURIComponent(text)}`
  return (
    <section aria-labelledby='templates-title'>
      <h1 id='templates-title' tabIndex={-1}>Templates</h1>
      <p>A template names every column of a mode, with an example line per action and what each column takes.</p>
      <div class='grid'>
        <label>Mode
          <select value={mode} onChange={(e) => setMode((e.currentTarget as HTMLSelectElement).value as Mode)}>
            {MODES.map((m) => <option key={m} value={m}>{m}</option>)}
          </select>
        </label>
      </div>
      {error && <p class='error' role='alert'>{error}</p>}
      <p><a class='button primary' href={href} download={`${mode}-template.csv`}>Download the {mode} template</a></p>
      <pre class='template' tabIndex={0} aria-label={`${mode} template`}>{text}</pre>
    </section>
  )
}
