-- prosody for docker-compose.yml: one virtual host, plain c2s on the compose network only
-- (the port is not published), SCRAM logins. Put TLS in front before exposing it.
admins = { }
modules_enabled = { "roster"; "saslauth"; "disco"; "ping"; "register"; "offline"; "smacks"; "posix" }
modules_disabled = { "tls" }
allow_registration = false
c2s_require_encryption = false
s2s_ports = { }
authentication = "internal_hashed"
storage = "internal"
data_path = "/var/lib/prosody"
log = { info = "*console" }
pidfile = "/var/run/prosody/prosody.pid"
daemonize = false
VirtualHost "localhost"
