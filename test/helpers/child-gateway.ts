// A gateway in its own process, for tests that kill it (SIGKILL) mid-run. Starts the demo IdP, an echo
// upstream and a gateway on Redis (ROOMGUARD_TEST_REDIS) writing its audit log to ROOMGUARD_TEST_AUDIT,
// then prints one JSON line {origin} on stdout.
import { startDemoIdp } from '../../src/demo/idp.js';
import { createGateway } from '../../src/gateway/server.js';
import { freePort, testConfig, testKeys } from './gateway.js';
import { startEchoUpstream } from './upstream.js';

const port = await freePort();
const origin = `http://127.0.0.1:${port}`;
const upstream = await startEchoUpstream();
const idp = await startDemoIdp({ clients: [{ clientId: 'roomguard-test', clientSecret: 'child-secret-0123456789abcdef', redirectUris: [`${origin}/_roomguard/callback`] }] });
const gateway = await createGateway(testConfig({
  port, issuer: idp.issuer, clientSecret: 'child-secret-0123456789abcdef', upstream: upstream.url,
  store: process.env.ROOMGUARD_TEST_REDIS!, keys: testKeys(), keyPrefix: `rgchild:${port}:`, auditDir: process.env.ROOMGUARD_TEST_AUDIT!,
}));
await gateway.listen();
process.stdout.write(`${JSON.stringify({ origin })}\n`);
