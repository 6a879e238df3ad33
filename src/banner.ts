import type { DemoCredentials } from './services/demo-seed.js'

function shellQuote (s: string): string {
  return `'${s.replace(/'/g, "'\\''")}'`
}

/** What a person sees on start: where the server is and how to log in. */
export function loginBanner (info: { address: string, mode: string, dataDir: string | null, demo: DemoCredentials | undefined, consoleUrl?: string | undefined }): string {
  const base = info.address.replace('://[::1]', '://localhost')
  const lines = [
    '',
    `massprov is listening on ${base}  (database: ${info.mode}${info.dataDir ? ` in ${info.dataDir}` : ''})`,
  ]
  if (info.consoleUrl) lines.push('', `Open the console: ${info.consoleUrl.replace(/\/$/, '')}`)
  if (info.demo) {
    const d = info.demo
    lines.push(
      '',
      'Demo company admin (created on first start; delete demo-credentials.json in the data directory to stop showing this):',
      `  login:     ${d.loginEmail}`,
      `  password:  ${d.password}`,
      `  companyId: ${d.companyId}`,
      `  app:       id ${d.appId}, secret ${d.appSecret}, API token ${d.apiToken}`,
      `  PBX:       ${d.pbxId} with short numbers 1000-1009`,
      '',
      'Log in (prints the answer and keeps the token in $TOKEN):',
      `  TOKEN=$(curl -s -u ${shellQuote(`${d.loginEmail}:${d.password}`)} ${base}/api/rainbow/authentication/v1.0/login | tee /dev/stderr | node -pe 'JSON.parse(require("fs").readFileSync(0)).token')`,
      '',
      'Then list the company\'s users:',
      `  curl -s -H "Authorization: Bearer $TOKEN" ${base}/api/rainbow/admin/v1.0/users`
    )
  } else {
    lines.push('', `Log in: curl -s -u 'EMAIL:PASSWORD' ${base}/api/rainbow/authentication/v1.0/login`)
  }
  return lines.join('\n') + '\n\n'
}
