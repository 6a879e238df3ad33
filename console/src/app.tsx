import { useEffect, useRef, useState } from 'preact/hooks'
import { finishSignIn, signIn, signOut, storedTokens } from './auth.ts'
import { whenSignedOut } from './api.ts'
import { chooseCompany, chosenCompany } from './company.ts'
import { CompanyPicker } from './picker.tsx'
import { linkProps, navigate, usePath } from './router.ts'
import { ImportPage } from './pages/import.tsx'
import { ProgressPage } from './pages/progress.tsx'
import { ReportsPage } from './pages/reports.tsx'
import { ReportPage } from './pages/report.tsx'
import { TemplatesPage } from './pages/templates.tsx'
import { DirectoryPage } from './pages/directory.tsx'

const NAV: Array<[string, string]> = [['import', 'Import'], ['reports', 'Reports'], ['templates', 'Templates'], ['directory', 'Users and numbers']]

function page (path: string) {
  const parts = path.split('/')
  if (parts[0] === 'imports' && parts[2] === 'progress' && parts[1]) return <ProgressPage reqId={decodeURIComponent(parts[1])} />
  if (parts[0] === 'reports' && parts[1]) return <ReportPage reqId={decodeURIComponent(parts[1])} />
  if (path === 'reports') return <ReportsPage />
  if (path === 'templates') return <TemplatesPage />
  if (path === 'directory') return <DirectoryPage />
  return <ImportPage />
}

function SignInPage ({ error }: { error: string | undefined }) {
  const [busy, setBusy] = useState(false)
  const [failure, setFailure] = useState(error)
  const go = () => {
    setBusy(true)
    const back = location.pathname.replace(/^\/console\/?/, '')
    signIn(back).catch((e: unknown) => { setBusy(false); setFailure((e as Error).message) })
  }
  return (
    <main id='main' class='signin'>
      <h1>massprov console</h1>
      <p>Provision the users and phone numbers of your company from CSV files: check a file, see what it will change, import it and download the results.</p>
      {failure && <p class='error' role='alert'>{failure}</p>}
      <button type='button' class='primary' onClick={go} disabled={busy}>Sign in</button>
      <p class='hint'>You sign in on the server's own page with your administrator e-mail and password.</p>
    </main>
  )
}

export function App () {
  const path = usePath()
  const [signedIn, setSignedIn] = useState(storedTokens() !== undefined)
  const [starting, setStarting] = useState(true)
  const [error, setError] = useState<string>()
  const [company, setCompany] = useState(chosenCompany())
  const heading = useRef<HTMLDivElement>(null)

  const choose = (id: string | undefined) => {
    chooseCompany(id)
    setCompany(id)
    // An import belongs to one company: its page gives way to the list of the company chosen.
    const section = path.split('/')[0]
    if ((section === 'reports' || section === 'imports') && path.includes('/')) navigate('reports')
  }
  const signedOut = () => {
    chooseCompany(undefined)
    setCompany(undefined)
    setSignedIn(false)
  }

  useEffect(() => {
    whenSignedOut(signedOut)
    finishSignIn()
      .then((returnTo) => {
        if (returnTo !== undefined) { setSignedIn(true); navigate(returnTo) }
      })
      .catch((e: unknown) => setError((e as Error).message))
      .finally(() => setStarting(false))
  }, [])

  // A page change moves the focus to the new page's heading, as a screen reader expects.
  useEffect(() => {
    heading.current?.querySelector<HTMLElement>('h1')?.focus()
  }, [path])

  if (starting) return <main id='main'><p role='status'>Loading…</p></main>
  if (!signedIn) return <SignInPage error={error} />
  const active = path.split('/')[0] || 'import'
  return (
    <>
      <a class='skip' href='#main'>Skip to content</a>
      <header class='top'>
        <span class='brand'>massprov</span>
        <nav aria-label='Pages'>
          <ul>
            {NAV.map(([p, label]) => (
              <li key={p}><a {...linkProps(p)} aria-current={active === p || (p === 'reports' && active === 'imports') ? 'page' : undefined}>{label}</a></li>
            ))}
          </ul>
        </nav>
        <CompanyPicker value={company} onChange={choose} />
        <button type='button' class='link' onClick={() => { void signOut().then(signedOut) }}>Sign out</button>
      </header>
      {/* Keyed by the company: a new choice starts every page afresh, with that company's data. */}
      <main id='main' ref={heading} key={company ?? ''}>{page(path)}</main>
    </>
  )
}
