// A gateway in its own process for crash-and-restart tests: everything that must survive a restart comes
// from the environment (port, keys, Redis, audit directory, IdP, upstream), so a second process started
// with the same values is the same deployment. Prints one JSON line {origin} once it listens.
import { createGateway } from '../../src/gateway/server.js';
import { testConfig, type TestKeys } from '../helpers/gateway.js';

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const port = Number(env('RG_CHILD_PORT'));
const gateway = await createGateway(testConfig({
  port, issuer: env('RG_CHILD_ISSUER'), clientSecret: env('RG_CHILD_CLIENT_SECRET'), upstream: env('RG_CHILD_UPSTREAM'),
  store: env('RG_CHILD_REDIS'), keys: JSON.parse(env('RG_CHILD_KEYS')) as TestKeys, keyPrefix: env('RG_CHILD_KEY_PREFIX'), auditDir: env('RG_CHILD_AUDIT'),
}));
await gateway.listen();
process.stdout.write(`${JSON.stringify({ origin: `http://127.0.0.1:${port}` })}\n`);
