/**
 * The scenario folder of the Postman collection: what a new administrator does first, with
 * assertions, runnable as is with newman against a fresh embedded server (`npm run postman:run`).
 */
const CSV_HEADERS = [{ key: 'Content-Type', value: 'text/csv; charset=utf-8' }]
const MP = '{{baseUrl}}/api/rainbow/massprovisioning/v1.0'
const CSV_BODY = '__action__;loginEmail;password;firstName;lastName\n' +
  'create;ada-{{run}}@example.com;Passw0rd!x;Ada;Lovelace\n' +
  'create;alan-{{run}}@example.com;Passw0rd!x;Alan;Turing\n'

const VOICE_BODY = '__action__;loginEmail;shortNumber;macAddress;ddiE164Number;password;firstName;service0;service1\n' +
  'upsert;grace-{{run}}@example.com;8001;;;;Grace;;\n'

interface Step { name: string, method: string, url: string, body?: string, headers?: Array<{ key: string, value: string }>, prerequest?: string[], test: string[], auth?: unknown }

/** Scripts of one run share a scope: a block keeps each step's constants its own. */
function block (lines: string[]): string[] {
  return ['{', ...lines.map((l) => '  ' + l), '}']
}

function item (step: Step) {
  const [raw, query] = step.url.split('?')
  return {
    name: step.name,
    event: [
      ...(step.prerequest ? [{ listen: 'prerequest', script: { type: 'text/javascript', exec: block(step.prerequest) } }] : []),
      { listen: 'test', script: { type: 'text/javascript', exec: block(step.test) } },
    ],
    request: {
      method: step.method,
      ...(step.auth ? { auth: step.auth } : {}),
      header: step.headers ?? [],
      ...(step.body ? { body: { mode: 'raw', raw: step.body } } : {}),
      url: {
        raw: step.url,
        host: ['{{baseUrl}}'],
        path: raw!.replace('{{baseUrl}}/', '').split('/'),
        ...(query ? { query: query.split('&').map((kv) => { const [key, value] = kv.split('='); return { key, value } }) } : {}),
      },
    },
  }
}

const STEPS: Step[] = [
  {
    name: '1. Log in (Basic → JWT)',
    method: 'GET',
    url: '{{baseUrl}}/api/rainbow/authentication/v1.0/login',
    auth: { type: 'basic', basic: [{ key: 'username', value: '{{email}}' }, { key: 'password', value: '{{password}}' }] },
    prerequest: ["pm.collectionVariables.set('run', Date.now().toString(36) + Math.floor(Math.random() * 1e6).toString(36))", "pm.collectionVariables.set('polls', '0')"],
    test: [
      "pm.test('200 with a token', () => { pm.response.to.have.status(200); pm.expect(pm.response.json().token).to.be.a('string') })",
      "pm.collectionVariables.set('token', pm.response.json().token)",
      "pm.collectionVariables.set('companyId', pm.response.json().loggedInUser.companyId)",
    ],
  },
  {
    name: '2. Download the user template',
    method: 'GET',
    url: `${MP}/users/template?mode=user`,
    test: ["pm.test('a CSV template with loginEmail', () => { pm.response.to.have.status(200); pm.expect(pm.response.text()).to.include('loginEmail') })"],
  },
  {
    name: '3. Check the CSV (dry run)',
    method: 'POST',
    url: `${MP}/users/imports/check`,
    headers: CSV_HEADERS,
    body: CSV_BODY,
    test: [
      'const data = pm.response.json().data',
      "pm.test('two creates, no error', () => { pm.response.to.have.status(200); pm.expect(data.actions.add).to.eql(2); pm.expect(data.errors).to.eql([]) })",
    ],
  },
  {
    name: '4. Import it',
    method: 'POST',
    url: `${MP}/users/imports?label=postman`,
    headers: CSV_HEADERS,
    body: CSV_BODY,
    test: [
      'const data = pm.response.json().data',
      "pm.test('accepted as Pending', () => { pm.response.to.have.status(200); pm.expect(data.status).to.eql('Pending'); pm.expect(data.reqId).to.match(/^[0-9a-f]{64}$/) })",
      "pm.collectionVariables.set('reqId', data.reqId)",
    ],
  },
  {
    name: '5. Poll the report until Terminated',
    method: 'GET',
    url: `${MP}/users/imports/{{reqId}}/details?format=full`,
    prerequest: ['const polls = Number(pm.collectionVariables.get(\'polls\'))', 'if (polls > 0) setTimeout(() => {}, 500)'],
    test: [
      'const data = pm.response.json().data',
      "const polls = Number(pm.collectionVariables.get('polls')) + 1",
      "pm.collectionVariables.set('polls', String(polls))",
      "if (data.status === 'Pending' && polls < 60) { pm.execution.setNextRequest(pm.info.requestName) } else {",
      "  pm.test('Terminated, both lines applied', () => { pm.expect(data.status).to.eql('Terminated'); pm.expect(data.counters.succeeded).to.eql(2); pm.expect(data.counters.failed).to.eql(0) })",
      "  pm.test('one report entry per line, in file order', () => { pm.expect(data.report.map((e) => e.lineNumber)).to.eql([2, 3]) })",
      '}',
    ],
  },
  {
    name: '6. The same file again is refused (409 naming the import)',
    method: 'POST',
    url: `${MP}/users/imports`,
    headers: CSV_HEADERS,
    body: CSV_BODY,
    test: ["pm.test('409 in the Rainbow envelope', () => { pm.response.to.have.status(409); pm.expect(JSON.stringify(pm.response.json().errorDetails)).to.include(pm.collectionVariables.get('reqId')) })"],
  },
  {
    name: '7. List the imports',
    method: 'GET',
    url: `${MP}/users/imports`,
    test: ["pm.test('the import is listed', () => { pm.response.to.have.status(200); pm.expect(pm.response.json().data.map((i) => i.reqId)).to.include(pm.collectionVariables.get('reqId')) })"],
  },
  {
    name: '8. Delete the report',
    method: 'DELETE',
    url: `${MP}/users/imports/{{reqId}}/details`,
    test: ["pm.test('deleted', () => { pm.response.to.have.status(200) })"],
  },
  {
    name: '9. The report is gone',
    method: 'GET',
    url: `${MP}/users/imports/{{reqId}}/details`,
    test: ["pm.test('404 in the Rainbow envelope', () => { pm.response.to.have.status(404); pm.expect(pm.response.json().errorCode).to.eql(404) })"],
  },
  {
    name: '10. The company\'s users as a connector reads them (CSV)',
    method: 'GET',
    url: `${MP}/users/synchronize?format=csv`,
    test: [
      'const lines = pm.response.json().data',
      "pm.test('a header, then the imported users as sync lines', () => { pm.response.to.have.status(200); pm.expect(lines[0]).to.include('loginEmail'); pm.expect(lines.some((l) => l.includes('ada-' + pm.collectionVariables.get('run') + '@example.com'))).to.eql(true) })",
    ],
  }, {
    name: '11. Check a Rainbow Voice file (every line planned against the company\'s Cloud PBX)',
    method: 'POST',
    url: `${MP}/users/imports/rainbowvoice/check`,
    headers: CSV_HEADERS,
    body: VOICE_BODY,
    test: [
      'const data = pm.response.json().data',
      "pm.test('a plan line per data line, each planned or refused with its code', () => { pm.response.to.have.status(200); pm.expect(data.mode).to.eql('rainbowvoice'); pm.expect(data.plan.length).to.eql(1); pm.expect(data.plan[0].outcome === 'error' ? data.plan[0].errorCode : 0).to.be.a('number') })",
    ],
  },
  {
    name: '12. Import it',
    method: 'POST',
    url: `${MP}/users/imports/rainbowvoice`,
    headers: CSV_HEADERS,
    body: VOICE_BODY,
    test: ["pm.test('accepted as Pending', () => { pm.response.to.have.status(200); pm.expect(pm.response.json().data.status).to.eql('Pending') })"],
  },
]

export function scenarioFolder () {
  return {
    name: 'Scenario: first import',
    description: 'Run in order (newman or the Postman runner) with the variables baseUrl, email and password.',
    auth: { type: 'bearer', bearer: [{ key: 'token', value: '{{token}}', type: 'string' }] },
    item: STEPS.map(item),
  }
}
