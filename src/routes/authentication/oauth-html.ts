import { createHash } from 'node:crypto'
import { SCOPES } from '../../services/oauth.js'

/** Served by us at STYLE_PATH: the pages load no inline style, no script and nothing from elsewhere. */
export const STYLESHEET = `body{font-family:system-ui,sans-serif;background:#f4f6f8;color:#1b1f23;margin:0}
main{max-width:26rem;margin:4rem auto;background:#fff;border-radius:8px;padding:2rem;box-shadow:0 1px 4px rgba(0,0,0,.15)}
h1{font-size:1.3rem;margin-top:0}label{display:block;margin:1rem 0 .3rem}
input[type=email],input[type=password]{width:100%;box-sizing:border-box;padding:.5rem;font-size:1rem}
button{margin-top:1.2rem;padding:.55rem 1.2rem;font-size:1rem;margin-right:.5rem}
.error{color:#a4000f;background:#fde8ea;padding:.6rem;border-radius:4px}ul{padding-left:1.2rem}
`
export const STYLE_ETAG = `"${createHash('sha256').update(STYLESHEET).digest('base64url').slice(0, 16)}"`

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }
function esc (value: string): string {
  return value.replace(/[&<>"']/g, (c) => ENTITIES[c]!)
}

function page (title: string, body: string, stylePath: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer"><title>${esc(title)}</title><link rel="stylesheet" href="${esc(stylePath)}"></head>
<body><main>${body}</main></body></html>
`
}

export interface PageContext { stylePath: string, actionBase: string }

export function signInPage (ctx: PageContext, v: { flow: string, appName: string, loginEmail?: string, error?: string }): string {
  return page('Sign in', `<h1>Sign in to continue to ${esc(v.appName)}</h1>
${v.error ? `<p class="error" role="alert">${esc(v.error)}</p>` : ''}
<form method="post" action="${esc(ctx.actionBase)}/login">
<input type="hidden" name="flow" value="${esc(v.flow)}">
<label for="login_email">Login e-mail</label>
<input type="email" id="login_email" name="login_email" autocomplete="username" required value="${esc(v.loginEmail ?? '')}">
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>`, ctx.stylePath)
}

export function consentPage (ctx: PageContext, v: { flow: string, appName: string, loginEmail: string, scope: string }): string {
  const items = v.scope.split(' ').map((s) => `<li>${esc(SCOPES[s] ?? s)}</li>`).join('')
  return page('Allow access', `<h1>${esc(v.appName)} asks for access</h1>
<p>Signed in as <strong>${esc(v.loginEmail)}</strong>. If you allow it, <strong>${esc(v.appName)}</strong> may:</p>
<ul>${items}</ul>
<p>with your own rights, within the companies you administer, until you sign out or your password changes.</p>
<form method="post" action="${esc(ctx.actionBase)}/consent">
<input type="hidden" name="flow" value="${esc(v.flow)}">
<button type="submit" name="decision" value="allow">Allow</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form>`, ctx.stylePath)
}

export function errorPage (ctx: PageContext, message: string): string {
  return page('Authorization error', `<h1>This authorization request cannot go on</h1>
<p class="error" role="alert">${esc(message)}</p>
<p>Go back to the application and start again.</p>`, ctx.stylePath)
}
