/** The rows of the reliability table that come from test files; the load row is in reliability.ts. */
import { fig, most, secs, total, type TestOutcome, type VitestRowSpec } from './reliability-table.js'

const WORKERS = 'test/e2e/import-workers.test.ts'
const OUTAGES = 'test/e2e/import-outages.test.ts'

const applied = (t: TestOutcome[]) => `${fig(total(t, 'appliedOnce'))}/${fig(total(t, 'lines'))} lines applied exactly once, ${fig(total(t, 'duplicates'))} duplicate users`

const QUEUES = [['postgres', 'BullMQ on PostgreSQL'], ['redis', 'BullMQ on Redis']] as const

/** One row per queue backend: `row(queue, name)` for each. */
const perQueue = (row: (queue: string, name: string) => VitestRowSpec) => QUEUES.map(([queue, name]) => row(queue, name))

const workerRows: VitestRowSpec[] = [
  ...perQueue((queue, name) => ({
    id: `worker-kill-${queue}`,
    kind: 'Fault',
    tried: `kill -9 of the worker once its import has applied half its lines (chunks of 25), then a new worker (${name})`,
    files: [WORKERS],
    pattern: `on bullmq-${queue} kill -9`,
    figures: (t) => `${fig(total(t, 'processedAtKill'))} lines applied before the kill; ${applied(t)}; done ${secs(most(t, 'recoveryMs'))} after the kill`,
  })),
  ...perQueue((queue, name) => ({
    id: `worker-sigterm-${queue}`,
    kind: 'Fault',
    tried: `SIGTERM to the worker as soon as its import has applied lines (SHUTDOWN_TIMEOUT 5 s), then a new worker (${name})`,
    files: [WORKERS],
    pattern: `on bullmq-${queue} SIGTERM`,
    figures: (t) => `exited with code ${fig(most(t, 'exitCode'))} ${fig(most(t, 'exitMs'))} ms after the signal, at line ${fig(most(t, 'processedAtExit'))}; ${applied(t)}`,
  })),
  ...perQueue((queue, name) => ({
    id: `worker-order-${queue}`,
    kind: 'Fault',
    tried: `two workers, two imports of one company and one of another (${name})`,
    files: [WORKERS],
    pattern: `on bullmq-${queue} two workers`,
    figures: (t) => `${fig(total(t, 'imports'))} imports, ${applied(t)}; the company's second import began ${fig(most(t, 'companyGapMs'))} ms after its first ended`,
  })),
  ...perQueue((queue, name) => ({
    id: `pg-kill-${queue}`,
    kind: 'Fault',
    tried: `the worker's PostgreSQL connections terminated (pg_terminate_backend) once its import has applied lines (${name})`,
    files: [OUTAGES],
    pattern: `PostgreSQL connections.*bullmq-${queue}`,
    figures: (t) => `${fig(total(t, 'backendsTerminated'))} connections terminated; ${applied(t)}; done ${secs(most(t, 'recoveryMs'))} later, ${fig(total(t, 'workerRestarts'))} worker restarts`,
  })),
]

const faultRows: VitestRowSpec[] = [
  ...workerRows,
  {
    id: 'redis-restart',
    kind: 'Fault',
    tried: 'Redis (BullMQ\'s) shut down and restarted empty once an import has applied lines, a second import enqueued after; the worker must stay up',
    files: [OUTAGES],
    pattern: 'Redis restarted empty',
    figures: (t) => `Redis down ${secs(most(t, 'redisDownMs'))}, ${fig(total(t, 'processedAtStop'))} lines applied before; ${fig(total(t, 'imports'))} imports, ${applied(t)}; ` +
      `both done ${secs(most(t, 'recoveryMs'))} after Redis answered again`,
  },
  {
    id: 'embedded-kill',
    kind: 'Fault',
    tried: 'kill -9 of the embedded server (PGlite, in-process queue) once its import has applied half its lines (chunks of 50), restart on the same DATA_DIR',
    files: ['test/e2e/import-resume.test.ts'],
    figures: (t) => `${fig(total(t, 'processedAtKill'))} lines applied before the kill; answering again ${secs(most(t, 'restartMs'))} after the kill, done after ${secs(most(t, 'recoveryMs'))}; ` +
      `${fig(total(t, 'appliedOnce'))}/${fig(total(t, 'lines'))} lines applied exactly once, ${fig(total(t, 'duplicates'))} duplicate users`,
  },
  {
    id: 'xmpp-outage',
    kind: 'Fault',
    tried: 'prosody stopped when a command ends, started again (relay and outbox on PGlite and on PostgreSQL)',
    files: ['test/notifications/outbox-relay.test.ts'],
    pattern: 'XMPP server down',
    figures: (t) => `${t.length} outages of up to ${secs(most(t, 'outageMs'))}: ${fig(total(t, 'waiting'))} notifications held, ${fig(total(t, 'delivered'))} delivered, each once, ` +
      `at most ${secs(most(t, 'deliveredMs'))} after prosody was back`,
  },
  {
    id: 'import-stall',
    kind: 'Fault',
    tried: 'the only worker killed mid-import and kept away past IMPORT_STALL_S, then started again (BullMQ on PostgreSQL)',
    files: ['test/e2e/import-stall.test.ts'],
    figures: (t) => `ended Failed by the watchdog ${secs(most(t, 'failedAfterMs'))} after the kill (IMPORT_STALL_S ${fig(most(t, 'stallSeconds'))} s); ${fig(most(t, 'processedAtKill'))} lines applied before it kept; ${fig(total(t, 'resumedLines'))} lines applied by the returning worker`,
  },
  {
    id: 'import-failed',
    kind: 'Fault',
    tried: 'a job failing on every attempt (BullMQ on Redis, and in-process), no worker consuming at all, a transient database error (40001), a unique-key race',
    files: ['test/jobs/import-worker-failures.test.ts', 'test/jobs/import-endings.test.ts'],
    pattern: 'failing on each of its attempts|no worker consuming|retries used up|only worker gone|first Pending import|transient database error|unique race',
    figures: (t) => `${t.filter((x) => x.passed).length}/${t.length} cases: imports end Failed with errorMsg, applied lines kept, the rest 3198, the company freed, the command ended as a failure; a transient error retried, never a failed line; a race is 409600`,
  },
  {
    id: 'import-cancel',
    kind: 'Fault',
    tried: 'cancel while the job runs, with no worker, inside a chunk (PostgreSQL), together with a kill -9 of the only worker, of another company\'s import, of a finished one',
    files: ['test/routes/massprovisioning/import-cancel.test.ts', 'test/jobs/import-endings.test.ts', 'test/e2e/import-cancel-kill.test.ts'],
    pattern: 'cancel|Cancelled|Failed import is listed|another company|finished import',
    figures: (t) => `${t.filter((x) => x.passed).length}/${t.length} cases: committed chunks stay applied and reported, the rest 3197, status Cancelled; another company's reqId 404 and a finished import 409, nothing changed`,
  },
  {
    id: 'database-down',
    kind: 'Fault',
    tried: 'PostgreSQL unreachable (nothing listens): list, import and check routes; /ready 503, /health 200',
    files: ['test/routes/database-down.test.ts'],
    figures: (t) => {
      const timed = t.filter((x) => 'answerMs' in x.figures)
      return `${timed.length} routes answered 503 in the Rainbow envelope, the slowest in ${fig(most(timed, 'answerMs'))} ms`
    },
  },
]

/** Bad-input classes: one test per class of input, grouped by the describe blocks under the file's. */
const csvRow = (id: string, file: string, tried: string, noun = 'input classes'): VitestRowSpec => ({
  id,
  kind: 'Bad input',
  tried,
  files: [`test/csv/${file}`],
  figures: (t) => {
    const groups = new Set(t.map((x) => x.suite)).size
    return `${t.length} ${noun}${groups > 1 ? ` in ${groups} groups` : ''}`
  },
})

const inputRows: VitestRowSpec[] = [
  csvRow('csv-file-errors', 'file-errors.test.ts', 'CSV files refused as a whole: broken quoting, bad headers, no data, size limits, bad __action__ (400501–400508, with the line)'),
  csvRow('csv-line-errors', 'line-errors.test.ts', 'CSV lines in error: control characters, duplicate logins, wrong field counts, empty logins, spreadsheet-mangled phones, each column\'s invalid values (code, line and column)'),
  csvRow('csv-decode', 'decode.test.ts', 'encodings: BOMs, UTF-16 LE/BE, invalid or truncated UTF-8, UTF-32, unpaired surrogates'),
  csvRow('csv-dialect', 'dialect.test.ts', 'delimiters detected or forced, unusable delimiter and comment parameters'),
  csvRow('csv-comments', 'comments.test.ts', 'comments, blank lines, CR/CRLF, RFC 4180 quoting, quoted line breaks'),
  csvRow('csv-parse', 'parse.test.ts', 'real files verbatim (the 2018 user template, the SDK Rainbow Voice sample), modes, passwords blanked on shifted lines, formula-like cells', 'cases'),
  csvRow('csv-formats', 'formats.test.ts', 'cell formats: phone numbers, passwords, e-mails, booleans, MAC addresses, countries, languages, time zones'),
  {
    id: 'csv-fuzz',
    kind: 'Bad input',
    tried: 'fast-check: random CSV-ish bytes on the three endpoints, and well-formed files with random cells (FUZZ_RUNS sets the count)',
    files: ['test/csv/fuzz.test.ts'],
    figures: (t) => `${fig(total(t, 'runs'))} random inputs over ${t.length} properties: only file-level 400s, no password echoed, within 1 s per KB`,
  },
  {
    id: 'http-bad-input',
    kind: 'Bad input',
    tried: 'NUL, unpaired surrogates and over-long values in every path parameter and text query, NUL cells in imports and commands, JSON nested past 64 levels; on a real socket: 431, parser-refused requests, bad percent-encoding, too-long parameters',
    files: ['test/routes/bad-input.test.ts', 'test/routes/bad-input-socket.test.ts'],
    figures: (t) => `${t.length} cases: each a 4xx in the Rainbow envelope (never a 5xx), NUL lines failed with 3003 and the rest applied, every refused command ended once`,
  },
  {
    id: 'http-random-urls',
    kind: 'Bad input',
    tried: 'fast-check: random paths, percent-encodings (%00, %ff, surrogates, CRLF, unicode, long segments), queries, methods and bodies on every route prefix, with and without a token (FUZZ_RUNS sets the count)',
    files: ['test/routes/random-urls.property.test.ts'],
    figures: (t) => `${fig(total(t, 'answered5xx'))} of ${fig(total(t, 'requests'))} random requests answered 5xx; every 4xx the envelope, the URL never echoed as sent`,
  },
]

const authRows: VitestRowSpec[] = [{
  id: 'auth-battery',
  kind: 'Auth',
  tried: 'alg none, HS512, no exp, expired, wrong issuer or secret, tampered payload, deleted user, wrong application credentials, other tenant, non-admin',
  files: ['test/routes/auth-battery.test.ts'],
  figures: (t) => `${fig(total(t, 'refused'))} bad requests refused (401/403/404) in ${t.length} cases on ${new Set(t.map((x) => x.suite)).size} databases; the genuine token and credentials accepted`,
}, {
  id: 'auth-privileges',
  kind: 'Auth',
  tried: 'every CSV action (update, delete, upsert, sync, attach, force_attach, detach, taking a number) by a company admin, an organization admin and a superadmin on users of every rank (D12), in the check and in the import',
  files: ['test/routes/massprovisioning/privileges.test.ts'],
  pattern: 'every action on every target rank',
  figures: (t) => `${fig(total(t, 'lines'))} lines: ${fig(total(t, 'allowed'))} allowed, ${fig(total(t, 'refused'))} above the caller's rank failed 3102 with nothing changed`,
}, {
  id: 'auth-secrets-rotation',
  kind: 'Auth',
  tried: 'JWT_SECRET rotated with tokens in flight (JWT_SECRET_PREVIOUS), a SECRETS_KEY that cannot open the store, SECRETS_KEY_PREVIOUS and rekey-secrets, an embedded store from before SECRETS_KEY',
  files: ['test/e2e/secrets-rotation.test.ts'],
  figures: (t) => `${t.filter((x) => x.passed).length}/${t.length} cases held: tokens in flight accepted during the rotation, refused (${fig(most(t, 'refusedAfter'))}) after it; a wrong key stops the start with the CLI step, never a 500 per sign-in`,
}, {
  id: 'auth-cli-secrets',
  kind: 'Auth',
  tried: 'massprov create-admin with --password on the command line (visible in ps), with no password, and with the password on stdin or in MASSPROV_PASSWORD',
  files: ['test/cli.test.ts'],
  pattern: 'create-admin',
  figures: (t) => `${t.filter((x) => x.passed).length}/${t.length} cases: --password refused with the reason and nothing created; the password never printed; stdin and MASSPROV_PASSWORD accepted`,
}, {
  id: 'codes-catalogue',
  kind: 'Tests',
  tried: 'every error, plan and line code of the catalogue looked for in the tests (a code no test expects is dead or untested)',
  files: ['test/codes-catalogue.test.ts'],
  figures: (t) => `${t.filter((x) => x.passed).length - 1} codes, each expected by at least one test; no code shared by two conditions`,
}, {
  id: 'auth-operator-details',
  kind: 'Auth',
  tried: '/ready and /metrics read anonymously, by a company admin, with a wrong token, with METRICS_TOKEN and a superadmin token; 50 concurrent scrapes',
  files: ['test/routes/operator-access.test.ts'],
  figures: (t) => `details and metrics only with METRICS_TOKEN or a superadmin token; ${fig(total(t, 'scrapes'))} scrapes read the whole-table aggregates ${fig(total(t, 'aggregateReads'))} times`,
}, {
  id: 'oauth-battery',
  kind: 'Auth',
  tried: 'OAuth 2.0: code replayed, expired or for another client; PKCE missing, plain or wrong; open redirects; forms posted without the flow\'s cookie; sign-in brute force; refresh after logout, password change, deletion; other company; forged JWTs; token-endpoint errors',
  files: ['test/routes/oauth-battery.test.ts'],
  figures: (t) => `${fig(total(t, 'refused'))} bad requests refused (RFC 6749 errors, error pages without redirect, 401/403/429) in ${t.length} cases on ${new Set(t.map((x) => x.suite)).size} databases; a replayed code or refresh token revokes what it issued`,
}]

const LIMITS = 'test/routes/limits-and-metrics.test.ts'
const limitRows: VitestRowSpec[] = [
  {
    id: 'limit-rate',
    kind: 'Limits',
    tried: 'one user over RATE_LIMIT_MAX=3 requests a minute (then with a fresh token of its own), another user, then logins past RATE_LIMIT_IP_MAX=10 per address',
    files: [LIMITS],
    pattern: 'rate limit answers 429',
    figures: (t) => `${fig(total(t, 'allowed'))} requests allowed, then ${fig(total(t, 'refused'))} refused with 429 and Retry-After ${fig(most(t, 'retryAfterS'))} s; a fresh token of the same user refused too; the other user unaffected`,
  },
  {
    id: 'limit-checks',
    kind: 'Limits',
    tried: 'concurrent checks with MAX_CONCURRENT_CHECKS=1 and MAX_QUEUED_CHECKS=1, then with room for 10 to wait',
    files: [LIMITS],
    pattern: 'caps (one check runs|with room in the queue)',
    figures: (t) => {
      const capped = t.filter((x) => 'refused' in x.figures)
      const queued = t.filter((x) => 'answered' in x.figures)
      return `${fig(total(capped, 'refused'))} of ${fig(total(capped, 'concurrent'))} turned away at once with 503; with room to wait ${fig(total(queued, 'answered'))} of ${fig(total(queued, 'concurrent'))} answered`
    },
  },
  {
    id: 'limit-imports',
    kind: 'Limits',
    tried: 'a second import while one is pending, with MAX_PENDING_IMPORTS=1',
    files: [LIMITS],
    pattern: 'pending-import cap',
    figures: (t) => `429 with Retry-After ${fig(most(t, 'retryAfterS'))} s; ${fig(total(t, 'stored'))} import stored; another company unaffected`,
  },
]

export const VITEST_ROWS: VitestRowSpec[] = [...faultRows, ...inputRows, ...authRows, ...limitRows]
