// The one schema of roomguard.yaml: types, defaults, limits, environment names and the text of
// docs/configuration.md all come from here (`npm run docs:config` regenerates the reference; a test
// checks it is current). Validation lives in validate.ts; this file only describes.

interface Base {
  doc: string;
  example?: string;
}
export interface StringField extends Base { kind: 'string'; default?: string; required?: boolean }
/** `host:port` to listen on (IPv6 as `[::]:8080`). */
export interface AddressField extends Base { kind: 'address'; default?: string }
export interface UrlField extends Base { kind: 'url'; protocols: readonly string[]; default?: string; required?: boolean }
export interface DurationField extends Base { kind: 'duration'; default: string; min?: string; max?: string }
export interface IntegerField extends Base { kind: 'integer'; default: number; min: number; max: number }
/** Without a default the key is unset unless written (another key, e.g. `oidc.profile`, then decides). */
export interface BooleanField extends Base { kind: 'boolean'; default?: boolean }
export interface EnumField<V extends string = string> extends Base { kind: 'enum'; values: readonly V[]; default: V }
export interface ListField extends Base { kind: 'list'; default: readonly string[] }
export interface SecretField extends Base { kind: 'secret'; required?: boolean }
export interface ObjectField<F extends Fields = Fields> extends Base { kind: 'object'; fields: F }
export type Field = StringField | AddressField | UrlField | DurationField | IntegerField | BooleanField | EnumField | ListField | SecretField | ObjectField;
export type Fields = { readonly [key: string]: Field };

/** The identity providers `oidc.profile` knows (src/identity/profiles.ts holds what each sends). */
export const IDP_PROFILES = ['generic', 'keycloak', 'entra', 'authentik', 'nextcloud', 'ucs', 'adfs'] as const;

const object = <F extends Fields>(doc: string, fields: F): ObjectField<F> => ({ kind: 'object', doc, fields });

export const CONFIG_SCHEMA = object('roomguard.yaml', {
  listen: { kind: 'address', default: '0.0.0.0:8080', doc: 'Address and port the gateway listens on: `0.0.0.0:8080` on every interface, `127.0.0.1:8080` on this machine only (behind a proxy on the same host); IPv6 as `[::]:8080`. A bare port is not enough.' },
  publicUrl: {
    kind: 'url', protocols: ['https:', 'http:'], required: true, example: 'https://meet.example.org',
    doc: 'The origin participants use. Drives the OIDC redirect URI, the `__Host-` cookie prefix and `Secure` flag, and the WebAuthn origin. Must be `https://` unless the host is loopback (demo and tests). No path.',
  },
  trustProxy: {
    kind: 'list', default: [], example: '[10.0.0.0/8, 127.0.0.1]',
    doc: 'Addresses or CIDR ranges of reverse proxies in front of roomguard whose `X-Forwarded-For` is believed. Empty: the TCP peer is the client.',
  },
  http: object('The HTTP listener: how long a client may take to send its request (slow clients cannot hold connections open).', {
    headersTimeout: { kind: 'duration', default: '10s', min: '1s', max: '1m', doc: 'A client must have sent the request headers this long after it began, else the connection is closed (408). Node checks open connections every quarter of the shorter of the two timeouts (at most every second, at least every 250 ms), so a timeout bites within a quarter of itself more, not after Node\'s default 30 s check.' },
    requestTimeout: { kind: 'duration', default: '30s', min: '1s', max: '10m', doc: 'A client must have sent the whole request (headers and body) this long after it began, else the connection is closed (408). Not longer responses and not WebSockets once open. At least `http.headersTimeout`.' },
  }),
  oidc: object('The organisation\'s OpenID Connect identity provider (authorization-code flow with PKCE).', {
    issuer: { kind: 'url', protocols: ['https:', 'http:'], required: true, example: 'https://id.example.org/realms/staff', doc: 'Issuer URL; its `/.well-known/openid-configuration` is fetched at start. `http://` only for loopback issuers.' },
    clientId: { kind: 'string', required: true, example: 'roomguard', doc: 'Client id registered at the IdP. Redirect URI to register: `<publicUrl>/_roomguard/callback`; post-logout redirect: `<publicUrl>/_roomguard/logged-out`.' },
    clientSecret: { kind: 'secret', required: true, example: 'env:ROOMGUARD_OIDC_SECRET', doc: 'Client secret (`env:NAME`, `file:/path` or the value itself).' },
    scopes: { kind: 'list', default: ['openid', 'email', 'profile'], doc: 'Scopes to request; must include `openid`. Add the scope that releases groups (e.g. `groups`) if your IdP needs one.' },
    profile: { kind: 'enum', values: IDP_PROFILES, default: 'generic', doc: 'Which identity provider this is: `keycloak`, `entra` (Microsoft Entra ID), `authentik`, `nextcloud`, `ucs` (Univention Corporate Server), `adfs` or `generic`. Sets where e-mail, name and groups are read and how group values become the names policies use (Keycloak and UCS: the leading `/` of a group path is dropped, `/staff` is `staff`; Entra ID: group object ids renamed by `oidc.groupNames`, app roles from `roles`). `oidc.claims.*` and `oidc.userinfo`, when set, win. Setting up each IdP: docs/idp/.' },
    claims: object('Where to find identity attributes in the ID token / userinfo (dot paths). Unset: where `oidc.profile` says.', {
      email: { kind: 'string', example: 'email', doc: 'Claim path of the e-mail address (default from `oidc.profile`: `email`; AD FS also `upn`).' },
      name: { kind: 'string', example: 'name', doc: 'Claim path of the display name (default from `oidc.profile`: `name`, then `preferred_username`, `uid` or `unique_name` as the IdP sends them).' },
      groups: { kind: 'string', example: 'realm_access.roles', doc: 'Claim path of the group list (an array of strings, or one string). Default from `oidc.profile`: `groups` (Entra ID and Nextcloud also `roles`; AD FS `group` and `role`). The profile\'s group normalisation applies to it too.' },
    }),
    groupNames: { kind: 'list', default: [], example: '[3f9ac1d2-5b7e-4c1a-9e0f-2d8b6a4c7e11=staff]', doc: 'Group values renamed for policies, as `<value>=<name>`: Microsoft Entra ID sends group object ids, which policies then name by these names. Values without an entry keep their form.' },
    trustEmail: { kind: 'boolean', default: false, doc: 'Every address the IdP sends counts as verified, from whatever claim it comes and without `email_verified`: say so only when the IdP releases no address a user can set themselves (an organisation\'s own directory, e.g. Entra ID with only verified domains, AD FS). Unset: an address counts as verified only when it comes from the `email` claim and `email_verified` is true; only a verified address satisfies e-mail and domain rules and reaches the upstream (`X-Roomguard-Email`, `Remote-Email`, the assertion\'s `email`).' },
    userinfo: { kind: 'boolean', doc: 'Also fetch the userinfo endpoint at login and merge its claims (ID token claims win). Default from `oidc.profile`: true, except `adfs` (its userinfo answers only `sub`).' },
    loginTimeout: { kind: 'duration', default: '10m', min: '1m', max: '1h', doc: 'How long a started login may take before its state expires.' },
    trustAmr: { kind: 'list', default: [], example: '[otp, hwk, mfa]', doc: 'When the ID token\'s `amr` contains one of these values, the session counts the second-factor method `idp` (used only where a policy lists `idp` in `mfa.methods`). Empty: the IdP\'s MFA is never trusted.' },
  }),
  mfa: object('Second factors: TOTP, WebAuthn (passkeys, security keys), recovery codes (docs/mfa.md).', {
    maxFailures: { kind: 'integer', default: 5, min: 1, max: 100, doc: 'Failed second-factor attempts allowed per account (from any address) within `mfa.failureWindow` before a temporary lock of that account\'s second factor.' },
    maxAccountsPerAddress: { kind: 'integer', default: 20, min: 2, max: 10000, doc: 'How many different accounts may be failing their second factor from one client address within `mfa.failureWindow` (a success takes an account off the count) before that address is locked for everyone: a ceiling against spraying codes across many accounts. One account counts once however often it fails, so it cannot lock out the others behind its address; raise it for a large network behind one NAT address (docs/mfa.md).' },
    failureWindow: { kind: 'duration', default: '5m', min: '1m', max: '24h', doc: 'Window in which failures are counted.' },
    lockout: { kind: 'duration', default: '5m', min: '30s', max: '1h', doc: 'First temporary lock; each further lock within a day doubles it, up to `mfa.maxLockout`.' },
    maxLockout: { kind: 'duration', default: '1h', min: '1m', max: '24h', doc: 'Longest temporary lock.' },
    hardLockAfter: { kind: 'integer', default: 100, min: 10, max: 1000, doc: 'Consecutive failures (no success in between) after which the account\'s second factor is locked until an admin runs `roomguard mfa unlock --user SUB` (NIST SP 800-63B: at most 100).' },
    challengeTimeout: { kind: 'duration', default: '5m', min: '30s', max: '15m', doc: 'How long a WebAuthn challenge or a pending TOTP enrolment stays valid.' },
    freshLogin: { kind: 'duration', default: '5m', min: '1m', max: '30m', doc: 'Enrolling the first factor needs an IdP login at most this old; older sessions are sent to log in again (OIDC `max_age`).' },
    metadata: { kind: 'string', example: 'file:/etc/roomguard/fido-mds.jwt', doc: 'A FIDO Metadata Service blob (MDS3, the signed JWT from mds.fidoalliance.org) stored on this host, as `file:/path`: read at start, never fetched. Rooms whose policy lists `mfa.authenticators.aaguids` accept only keys whose attestation verifies against it (docs/mfa.md). Restart to load a newer one.' },
    metadataRoot: { kind: 'string', example: 'file:/etc/roomguard/mds-root.pem', doc: 'The root certificate (PEM, `file:/path`) the metadata blob is signed under; default: the FIDO Alliance\'s own root, which roomguard carries. Set it for a blob your organisation signs itself.' },
    freshFactor: { kind: 'duration', default: '5m', min: '1m', max: '30m', doc: 'Adding or removing a factor, or new recovery codes, need a second factor confirmed at most this long ago.' },
  }),
  ui: object('Branding of roomguard\'s own pages.', {
    orgName: { kind: 'string', default: 'roomguard', doc: 'Organisation name shown on pages and as the issuer in authenticator apps.' },
    logo: { kind: 'string', example: '/etc/roomguard/logo.svg', doc: 'Path to an SVG or PNG logo (at most 256 KiB), served by roomguard itself.' },
    primaryColor: { kind: 'string', default: '#0b57d0', doc: 'Accent colour of buttons and links, as #rrggbb. Choose one with enough contrast to white text.' },
    timeZone: { kind: 'string', example: 'Europe/Berlin', doc: 'Zone of every time on roomguard\'s pages (IANA name, e.g. `Europe/Berlin`, `UTC`); each time is shown with its zone (`14:05 CET`). Unset: the server\'s zone (`TZ`, else the system\'s).' },
    links: object('Links in the footer of every page (in German and English pages alike), and in room notices as `{privacy}`, `{imprint}`, `{help}`.', {
      privacy: { kind: 'url', protocols: ['https:', 'http:'], example: 'https://example.org/datenschutz', doc: 'The organisation\'s data-protection information (Datenschutzhinweise; GDPR Art. 13), linked as "Privacy" / "Datenschutz".' },
      imprint: { kind: 'url', protocols: ['https:', 'http:'], example: 'https://example.org/impressum', doc: 'The legal notice (Impressum), linked as "Imprint" / "Impressum".' },
      help: { kind: 'url', protocols: ['https:', 'http:', 'mailto:'], example: 'https://example.org/hilfe', doc: 'Where participants get help (a page, or `mailto:`), linked as "Help" / "Hilfe".' },
    }),
  }),
  store: object('Where sessions and pending logins live: one Redis server, a Sentinel-managed primary, or a Cluster (docs/operations.md).', {
    url: { kind: 'string', default: 'redis://127.0.0.1:6379', example: 'rediss://redis.internal:6380/2', doc: 'One Redis server: a `redis://` or `rediss://` (TLS) URL with an optional database number, or `memory` (single instance only; refused by `serve` unless `allowMemory` is true). Leave it unset with `store.sentinel` or `store.cluster`. No query string.' },
    username: { kind: 'string', example: 'roomguard', doc: 'ACL user (Redis 6 or newer) for the Redis servers, if not in the URL. Unset: the `default` user.' },
    password: { kind: 'secret', doc: 'Password of the Redis servers (`env:NAME` or `file:/path`), if not in the URL.' },
    keyPrefix: { kind: 'string', default: 'roomguard:', doc: 'Prefix of every key roomguard writes (docs/operations.md lists them all; each has a TTL).' },
    allowMemory: { kind: 'boolean', default: false, doc: 'Let `serve` use the in-memory store (sessions are lost on restart and not shared between instances).' },
    tls: object('TLS to Redis. The server certificate is always verified; there is no switch to turn that off.', {
      enabled: { kind: 'boolean', default: false, doc: 'TLS to the sentinels and the primary (`store.sentinel`) or to every Cluster node (`store.cluster`). With `store.url`, write `rediss://` instead.' },
      ca: { kind: 'string', example: '/etc/roomguard/redis-ca.pem', doc: 'PEM file of the CA(s) that signed the Redis server certificates. Unset: the system\'s trusted CAs.' },
      cert: { kind: 'string', example: '/etc/roomguard/redis-client.pem', doc: 'PEM client certificate, for servers that require one (`tls-auth-clients yes`). Needs `store.tls.key`.' },
      key: { kind: 'string', example: '/etc/roomguard/redis-client.key', doc: 'PEM private key of `store.tls.cert` (readable only by roomguard).' },
      servername: { kind: 'string', example: 'redis.internal', doc: 'Name expected in the server certificate (and sent as SNI) when it differs from the host connected to, e.g. when connecting by IP address.' },
    }),
    sentinel: object('Redis Sentinel: roomguard asks the sentinels for the current primary and follows failovers.', {
      name: { kind: 'string', example: 'mymaster', doc: 'Name of the primary as the sentinels know it (`sentinel monitor <name> …`). Required with `store.sentinel.nodes`.' },
      nodes: { kind: 'list', default: [], example: '[10.0.0.1:26379, 10.0.0.2:26379, 10.0.0.3:26379]', doc: 'Sentinels as `host:port` (IPv6 as `[::1]:26379`); list several, any one that answers will do. Non-empty switches Sentinel mode on.' },
      username: { kind: 'string', doc: 'ACL user of the sentinels, if they have `requirepass`/ACLs of their own.' },
      password: { kind: 'secret', doc: 'Password of the sentinels themselves (`sentinel requirepass`), if any; `store.password` is the data nodes\' password.' },
    }),
    cluster: object('Redis Cluster: every key roomguard writes names one slot, so all operations work on a Cluster.', {
      nodes: { kind: 'list', default: [], example: '[10.0.0.1:6379, 10.0.0.2:6379, 10.0.0.3:6379]', doc: 'Some Cluster nodes as `host:port` (the others are discovered). Non-empty switches Cluster mode on.' },
    }),
  }),
  session: object('Session lifetime (enforced server-side; the cookie carries no expiry).', {
    idleTimeout: { kind: 'duration', default: '30m', min: '1m', max: '1h', doc: 'A session unused this long ends (NIST SP 800-63B AAL2: at most 1h).' },
    absoluteTimeout: { kind: 'duration', default: '12h', min: '5m', max: '24h', doc: 'A session ends this long after login, however active (AAL2: at most 24h).' },
    cookieName: { kind: 'string', default: 'roomguard_session', doc: 'Cookie name; gets the `__Host-` prefix when `publicUrl` is https.' },
    maxPerPerson: { kind: 'integer', default: 10, min: 1, max: 1000, doc: 'How many sessions one person may have at once (browsers and devices together). A new login ends the person\'s oldest sessions beyond it, on every instance, and the audit log records it (`session.revoked`, scope `session-limit`). Bounds what one account can make the store hold.' },
    localCache: { kind: 'duration', default: '1s', max: '1s', doc: 'How long an instance may reuse a session it read from the store for the sub-resource requests of a page (assets, API calls; never page loads, WebSocket opens or any refusal). Ending a session anywhere removes every copy at once through the store\'s publish/subscribe; while that channel is down nothing is cached. `0s` turns the cache off.' },
  }),
  guests: object('Guest sessions of people without an account, admitted by invitation where a room policy has `guests:` (docs/guests.md).', {
    idleTimeout: { kind: 'duration', default: '15m', min: '1m', max: '30m', doc: 'A guest session not used this long ends (never longer than `session.idleTimeout`; docs/guests.md).' },
    absoluteTimeout: { kind: 'duration', default: '4h', min: '5m', max: '12h', doc: 'A guest is admitted for at most this long after using the invitation (never beyond the invitation\'s own expiry), however active.' },
  }),
  policies: object('Room policy files.', {
    dir: { kind: 'string', default: './policies', doc: 'Directory of `*.yaml` / `*.yml` policy files (relative paths are resolved against the config file).' },
    watch: { kind: 'boolean', default: true, doc: 'Reload policies when files in the directory change. A broken set is rejected whole; the previous set keeps serving.' },
    settle: {
      kind: 'duration', default: '2s', min: '100ms', max: '5m',
      doc: 'A changed policy set is put in force only after it has stood still this long (same names, sizes, times and contents, by hash, on two reads this far apart): a file rewritten in place, also through a memory mapping, is not loaded half-written while the writer pauses for less than this. Applies to the watcher, `SIGHUP` and start-up (which therefore take at least this long). Replace files by rename to be safe from any pause (docs/policies.md).',
    },
  }),
  backend: object('The conferencing backend roomguard protects.', {
    type: { kind: 'enum', values: ['generic', 'jitsi', 'bbb'], default: 'generic', doc: '`generic`: any HTTP/WebSocket app; rooms are found with `roomPath`. `jitsi`: Jitsi Meet; rooms are `/<room>` (or `/<tenant>/<room>`), each admission gets a room-scoped JWT, and the signalling paths are gated (docs/jitsi.md). `bbb`: BigBlueButton (or Scalelite); rooms are `/rooms/<room>`, each admission is a checksum-signed single-use join (docs/bbb.md).' },
    upstream: { kind: 'url', protocols: ['http:', 'https:'], required: true, example: 'http://127.0.0.1:8000', doc: 'Base URL of the backend (HTTP and WebSocket).' },
    roomPath: {
      kind: 'string', default: '^/rooms/(?<room>[^/]+)(?:/.*)?$',
      doc: 'Regular expression over the request path (still percent-encoded) with a named group `room`. Paths it matches need an allow decision for that room; the room part is canonicalised and non-canonical spellings are redirected to the canonical path.',
    },
    public: { kind: 'list', default: [], example: '[/favicon.ico, /static/*]', doc: 'Paths served without login: exact paths, or prefixes ending in `*`. Room paths are never public.' },
    bbb: object('BigBlueButton (`backend.type: bbb`): the API checksum contract of bbb-web (docs/bbb.md).', {
      secret: { kind: 'secret', example: 'env:BBB_SECRET', doc: 'The shared secret (`bbb-conf --secret`, or Scalelite\'s `LOADBALANCER_SECRET`). Required for `bbb`.' },
      checksum: { kind: 'enum', values: ['sha256', 'sha1', 'sha384', 'sha512'], default: 'sha256', doc: 'Checksum algorithm; must be in bbb-web\'s `supportedChecksumAlgorithms` (Scalelite: no sha384).' },
      meetingIdPrefix: { kind: 'string', default: 'rg-', doc: 'Prefix of the BBB `meetingID` of each room (`rg-board`).' },
      joinTtl: { kind: 'duration', default: '60s', min: '5s', max: '10m', doc: 'How long a signed join URL stays usable; it is accepted once.' },
    }),
    jitsi: object('Jitsi Meet (`backend.type: jitsi`): the token contract Prosody checks, and the XMPP inspection (docs/jitsi.md).', {
      auth: { kind: 'enum', values: ['token', 'none'], default: 'token', doc: '`token`: each admission gets a room-scoped JWT that Prosody checks (Prosody configured for JWT). `none`: no JWT; for a stock Jitsi (anonymous or internal authentication): roomguard\'s reading of the XMPP stream alone keeps a connection to its room (docs/jitsi.md says what it does not cover). The stream is read in both modes.' },
      mucDomain: { kind: 'string', example: 'conference.meet.jitsi', doc: 'The MUC service of the rooms (`XMPP_MUC_DOMAIN`: `muc.meet.jitsi` in docker-jitsi-meet, `conference.<host>` in a Debian install); unset: `conference.` + `domain`. Presence, IQs and conference requests to rooms there are refused unless the session was admitted to the room.' },
      appId: { kind: 'string', example: 'roomguard', doc: 'JWT `iss`; Jitsi\'s `JWT_APP_ID` (and one of `JWT_ACCEPTED_ISSUERS`). Required for `jitsi` with `auth: token`.' },
      appSecret: { kind: 'secret', example: 'env:JITSI_JWT_SECRET', doc: 'HS256 key shared with Prosody (`JWT_APP_SECRET`), at least 32 characters. Required for `jitsi` with `auth: token`.' },
      audience: { kind: 'string', default: 'jitsi', doc: 'JWT `aud`; must be in Jitsi\'s `JWT_ACCEPTED_AUDIENCES`.' },
      domain: { kind: 'string', default: 'meet.jitsi', doc: 'Jitsi\'s XMPP domain (`XMPP_DOMAIN`): JWT `sub` for rooms without a tenant, and the only domain a client may open its XMPP stream to.' },
      tenants: { kind: 'boolean', default: false, doc: 'Treat `/<tenant>/<room>` as a room of that tenant (JWT `sub` = tenant). Policies then name such rooms `tenant/room`.' },
      tokenTtl: { kind: 'duration', default: '10m', min: '1m', max: '12h', doc: 'Lifetime of a room token (`exp`). Prosody checks it when the client connects, so a client that reconnects after it expired must reload the room page. With `auth: none` the lifetime of an admission: after it a new signalling connection is refused until a room page load, where the policy is judged again (an open connection goes on).' },
      userFields: { kind: 'list', default: ['name'], example: '[name, email]', doc: 'Which identity fields go into `context.user` besides the pseudonymous `id`: `name`, `email`.' },
      features: { kind: 'list', default: [], example: '[recording, transcription]', doc: 'Which `context.features` a room policy may switch on (`recording`, `livestreaming`, `transcription`, `outbound-call`, `sip-outbound-call`); every other feature is sent as false.' },
    }),
  }),
  forwardAuth: object('Forward-auth mode: an existing nginx (`auth_request`), Traefik (`forwardAuth`) or Caddy (`forward_auth`) asks roomguard about each request and proxies it itself (docs/forward-auth.md).', {
    enabled: { kind: 'boolean', default: false, doc: 'Answer `/_roomguard/verify`. Off: the endpoint does not exist and roomguard is the proxy itself.' },
    proxy: { kind: 'string', example: 'nginx', doc: 'Which web server asks: `nginx`, `caddy` or `traefik` (required with `enabled`). roomguard reads the original request only from the headers that server sets itself — `X-Original-URI`/`X-Original-Method` for nginx (set by the shipped snippet), `X-Forwarded-Uri`/`X-Forwarded-Method` for Caddy and Traefik — never from headers a client could send through another kind of proxy.' },
    remoteHeaders: { kind: 'boolean', default: true, doc: 'Also answer with `Remote-User`, `Remote-Email`, `Remote-Name` and `Remote-Groups` (for upstreams that read those) besides the `X-Roomguard-*` headers.' },
  }),
  identityHeaders: object('How names, e-mail addresses and groups with letters outside ASCII travel in the identity headers the backend reads (docs/identity-headers.md). Jitsi and BigBlueButton get them in their token or signed join instead, unaffected.', {
    encoding: { kind: 'enum', values: ['percent', 'utf8', 'rfc8187'], default: 'percent', doc: '`X-Roomguard-User`, `-Email`, `-Name`, `-Groups`: `percent` writes UTF-8 with every byte outside printable ASCII (and `%`, `,`) percent-encoded (`Dana D%C3%BCsseldorf`; decode with `decodeURIComponent`); `utf8` the raw UTF-8 bytes (`Dana Düsseldorf`, as Authelia sends; Go, PHP and Node apps read it right, Java servlets and WSGI apps see Latin-1); `rfc8187` `UTF-8\'\'Dana%20D%C3%BCsseldorf` for values that are not plain ASCII. The signed `X-Roomguard-Assertion` carries the exact values whatever is chosen.' },
    remoteEncoding: { kind: 'enum', values: ['percent', 'utf8', 'rfc8187'], default: 'utf8', doc: 'The same for the Authelia-style `Remote-User`, `-Email`, `-Name`, `-Groups` of forward-auth (`forwardAuth.remoteHeaders`): raw UTF-8 by default, as Authelia sends them and as the apps that read them (Grafana, Nextcloud, Paperless …) expect.' },
  }),
  shutdown: object('Graceful stop on SIGTERM/SIGINT: stop accepting, let requests finish, then close WebSockets and flush the audit log.', {
    drainTimeout: { kind: 'duration', default: '10s', max: '5m', doc: 'How long requests under way may take to finish after SIGTERM. Keep the orchestrator\'s grace period (Kubernetes `terminationGracePeriodSeconds`, systemd `TimeoutStopSec`) above `drainTimeout` + `websocketGrace`.' },
    websocketGrace: { kind: 'duration', default: '5s', max: '5m', doc: 'How long open WebSockets are left to close on their own after the requests drained; then they are closed (clients such as Jitsi reconnect, through the load balancer, to another instance).' },
  }),
  audit: object('The tamper-evident audit log of every login and join decision (docs/audit.md).', {
    dir: { kind: 'string', default: './audit', doc: 'Directory of the audit chain (one JSON Lines segment per UTC day and instance) and its checkpoint files. Relative paths are resolved against the config file. Must be on a durable local file system.' },
    instance: { kind: 'string', doc: 'Name of this instance in records and file names (default: the host name). Each instance writes its own chain.' },
    ip: { kind: 'enum', values: ['truncate', 'hmac', 'full', 'none'], default: 'truncate', doc: 'Client addresses in records: `truncate` to /24 (IPv4) and /48 (IPv6), `hmac` keyed hash with a daily key deleted after 7 days, `full`, or `none`.' },
    identity: { kind: 'enum', values: ['clear', 'pseudonymous', 'erasable'], default: 'clear', doc: '`clear` records `sub`, `iss` and e-mail; `pseudonymous` records a keyed hash of `sub` instead and no e-mail; `erasable` records a keyed hash under a key of each person\'s own, kept in the store, which `roomguard privacy erase` deletes (crypto-shredding: their records stay in the chain but can no longer be linked to them; docs/audit.md).' },
    names: { kind: 'boolean', default: false, doc: 'Also record display names (off: data minimisation).' },
    retentionDays: { kind: 'integer', default: 90, min: 1, max: 3650, doc: 'Segments older than this many days are deleted by `roomguard audit purge` and by the daily purge in `serve`; longer retention needs a justification in your record of processing.' },
    legalRetentionDays: { kind: 'integer', default: 0, min: 0, max: 3650, doc: 'Records younger than this many days are under a legal duty to keep (e.g. for an investigation, or a law that names a period): `roomguard privacy erase` reports a person\'s records inside it and leaves them linkable unless `--force`. 0: no such duty. At most `audit.retentionDays`.' },
    checkpointEvery: { kind: 'integer', default: 1000, min: 1, max: 1_000_000, doc: 'Append an Ed25519-signed checkpoint after this many records…' },
    checkpointInterval: { kind: 'duration', default: '5m', min: '10s', max: '24h', doc: '…or after this much time with new records, whichever comes first.' },
    stdout: { kind: 'boolean', default: false, doc: 'Also print every record as a JSON line on stdout (for a log shipper).' },
    syslog: { kind: 'string', example: 'udp://siem.internal:514', doc: 'Also send every record as RFC 5424 syslog to `udp://host:port` or `tcp://host:port`.' },
    reviewers: { kind: 'list', default: [], example: '[dpo, security-team]', doc: 'Groups whose members may open the reviewer page `/_roomguard/audit` (with a second factor).' },
  }),
  secrets: object('Keys of the gateway itself. Generate them with `roomguard keys generate`.', {
    encryptionKey: { kind: 'secret', required: true, example: 'env:ROOMGUARD_ENCRYPTION_KEY', doc: '32 random bytes (base64 or 64 hex digits). Encrypts session data in the store (AES-256-GCM); all instances must share it.' },
    assertionKey: { kind: 'secret', required: true, example: 'file:/etc/roomguard/assertion.pem', doc: 'EC P-256 private key (PKCS#8 PEM) that signs `X-Roomguard-Assertion` (ES256); its public key is served at `/_roomguard/jwks.json`. All instances must share it.' },
    previousEncryptionKey: { kind: 'secret', doc: 'The former `encryptionKey` during a key rotation: values sealed with it are still read and re-sealed with the current key when written.' },
    auditSigningKey: { kind: 'secret', required: true, example: 'file:/etc/roomguard/audit-signing.pem', doc: 'Ed25519 private key (PKCS#8 PEM) that signs audit checkpoints; see docs/audit.md for how verifiers get the public key.' },
  }),
  metrics: object('Prometheus metrics on a separate listener.', {
    listen: { kind: 'address', example: '127.0.0.1:9464', doc: 'Address and port of the metrics listener (`GET /metrics`). Unset: no metrics listener. Keep it off the public network.' },
  }),
  log: object('Logging to stdout. Secrets, cookies, tokens and query strings are left out in either format.', {
    level: { kind: 'enum', values: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], default: 'info', doc: 'Minimum level of what is logged.' },
    format: { kind: 'enum', values: ['json', 'text'], default: 'json', doc: '`json`: one JSON object per line with pino\'s fields (`level` as a number, `time` in epoch milliseconds, `msg`, `reqId` …) and `levelName` (`info`, `warn` …), for a log shipper. `text`: one line per record for people reading a terminal or the journal: local time with its UTC offset, the level word, the message, then `key=value` pairs (objects flattened as `req.path=…`; values with spaces or special characters quoted and escaped, so a record is always one line). Changing it takes a restart.' },
  }),
});

type Infer<F> =
  F extends ObjectField<infer Inner> ? { [K in keyof Inner]: Infer<Inner[K]> } :
  F extends StringField ? (F extends { required: true } | { default: string } ? string : string | undefined) :
  F extends AddressField ? (F extends { default: string } ? string : string | undefined) :
  F extends UrlField ? (F extends { required: true } | { default: string } ? URL : URL | undefined) :
  F extends DurationField ? number :
  F extends IntegerField ? number :
  F extends BooleanField ? (F extends { default: boolean } ? boolean : boolean | undefined) :
  F extends EnumField<infer V> ? V :
  F extends ListField ? string[] :
  F extends SecretField ? (F extends { required: true } ? import('./secret.js').Secret : import('./secret.js').Secret | undefined) :
  never;

/** The validated configuration: durations in milliseconds, URLs parsed, secrets resolved. */
export type Config = Infer<typeof CONFIG_SCHEMA> & {
  /** The file the config came from (for resolving relative paths and error messages). */
  readonly sourceFile: string;
};

/**
 * A key renamed in a release: the old name still works, with a warning naming the new one, until the
 * release named in `removal` (docs/upgrading.md). Add an entry when a key is renamed; never reuse an old name.
 */
export interface DeprecatedKey {
  /** Dotted path of the old key (`session.idle`). */
  from: string;
  /** Dotted path of the key that replaces it. */
  to: string;
  /** Version that deprecated it. */
  since: string;
  /** First version that no longer reads it. */
  removal: string;
}

/** Every deprecated key (none yet: nothing has been renamed since 0.1.0). */
export const DEPRECATED_KEYS: readonly DeprecatedKey[] = [];

/**
 * ROOMGUARD_* variables that are not configuration keys but belong to roomguard's shipped files, so
 * they may share its environment: the container image's health check (Dockerfile) and the Caddyfile's
 * site and upstream (deploy/caddy/Caddyfile). Any other unknown ROOMGUARD_* variable is a problem.
 */
export const NON_CONFIG_VARIABLES: Readonly<Record<string, string>> = {
  ROOMGUARD_HEALTHCHECK_URL: 'the URL the HEALTHCHECK of the container image fetches, set in the Dockerfile',
  ROOMGUARD_SITE: 'the meeting host in deploy/caddy/Caddyfile',
  ROOMGUARD_ADDRESS: 'roomguard\'s address in deploy/caddy/Caddyfile',
};

/** `oidc.clientSecret` → `ROOMGUARD_OIDC_CLIENT_SECRET`. */
export function envNameFor(path: readonly string[]): string {
  return 'ROOMGUARD_' + path.map((p) => p.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('_');
}

/** Every leaf of the schema with its dotted path, in declaration order. */
export function schemaLeaves(field: ObjectField = CONFIG_SCHEMA, prefix: string[] = []): Array<{ path: string[]; field: Exclude<Field, ObjectField> }> {
  const out: Array<{ path: string[]; field: Exclude<Field, ObjectField> }> = [];
  for (const [key, child] of Object.entries(field.fields)) {
    if (child.kind === 'object') out.push(...schemaLeaves(child, [...prefix, key]));
    else out.push({ path: [...prefix, key], field: child });
  }
  return out;
}
