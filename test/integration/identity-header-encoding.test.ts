// Names with letters outside ASCII in the identity headers, through a running gateway (proxy mode) and
// through real nginx with the shipped forward-auth snippets: each encoding arrives at the backend as the
// documented bytes, Remote-* as raw UTF-8 (as Authelia sends), and no control character ever passes.
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { DemoUser } from '../../src/demo/idp.js';
import { signInThrough } from '../helpers/browser.js';
import { forwardAuthHttpBlock, startNginx, type Nginx } from '../helpers/nginx.js';
import { startRig, startRigBehind, type Rig } from '../helpers/rig.js';

const SNIPPETS = fileURLToPath(new URL('../../deploy/nginx/', import.meta.url));
const DANA: DemoUser = { sub: 'dana', password: 'demo', email: 'dana@example.org', name: 'Dana Düsseldorf', groups: ['staff', 'Ärzte', 'a,b'] };
/** Node hands a header's bytes to JavaScript one per code unit (Latin-1): read them back as UTF-8. */
const asUtf8 = (value: string | string[] | undefined) => (typeof value === 'string' ? Buffer.from(value, 'latin1').toString('utf8') : value);

const rigs: Rig[] = [];
afterAll(async () => {
  await Promise.all(rigs.map((rig) => rig.close()));
});

async function arrivedFor(encoding?: string) {
  const rig = await startRig({ idp: { users: [DANA] }, ...(encoding ? { config: { identityHeaders: { encoding } } } : {}) });
  rigs.push(rig);
  expect((await signInThrough(rig.origin, 'dana', '/rooms/staff-weekly')).final.status).toBe(200);
  return rig.upstream.arrived.find((a) => a.url === '/rooms/staff-weekly')!.headers;
}

describe('X-Roomguard-* in proxy mode (identityHeaders.encoding)', () => {
  it('percent (the default): ASCII only, decodeURIComponent gives the name back', async () => {
    const headers = await arrivedFor();
    expect(headers['x-roomguard-name']).toBe('Dana D%C3%BCsseldorf');
    expect(headers['x-roomguard-groups']).toBe('staff,%C3%84rzte,a%2Cb');
    expect(decodeURIComponent(headers['x-roomguard-name'] as string)).toBe('Dana Düsseldorf');
  });

  it('utf8: the raw UTF-8 bytes, a comma inside a group escaped', async () => {
    const headers = await arrivedFor('utf8');
    expect(asUtf8(headers['x-roomguard-name'])).toBe('Dana Düsseldorf');
    expect(asUtf8(headers['x-roomguard-groups'])).toBe('staff,Ärzte,a%2Cb');
  });

  it('rfc8187: UTF-8\'\' ext-values for what is not plain ASCII, plain ASCII as it is', async () => {
    const headers = await arrivedFor('rfc8187');
    expect(headers['x-roomguard-name']).toBe("UTF-8''Dana%20D%C3%BCsseldorf");
    expect(headers['x-roomguard-groups']).toBe("staff,UTF-8''%C3%84rzte,UTF-8''a%2Cb");
    expect(headers['x-roomguard-email']).toBe('dana@example.org');
  });
});

describe('forward-auth through nginx with the shipped snippets', () => {
  it('hands the backend Remote-Name as raw UTF-8 and X-Roomguard-Name percent-encoded', async () => {
    const rig = await startRigBehind({ idp: { users: [DANA] }, config: { trustProxy: ['127.0.0.1'], forwardAuth: { enabled: true, proxy: 'nginx' } } }, (nginxPort, { port: gatewayPort, upstream }) => startNginx(forwardAuthHttpBlock(nginxPort, gatewayPort, upstream.url, `
    location / {
      include ${SNIPPETS}roomguard-auth.conf;
      proxy_pass http://app;
      proxy_set_header Host $host;
    }`), nginxPort));
    rigs.push(rig as Rig & { proxy: Nginx });
    expect((await signInThrough(rig.origin, 'dana', '/rooms/staff-weekly')).final.status).toBe(200);
    const headers = rig.upstream.arrived.find((a) => a.url === '/rooms/staff-weekly')!.headers;
    expect(asUtf8(headers['remote-name'])).toBe('Dana Düsseldorf');
    expect(asUtf8(headers['remote-groups'])).toBe('staff,Ärzte,a%2Cb');
    expect(headers['x-roomguard-name']).toBe('Dana D%C3%BCsseldorf');
  });
});
