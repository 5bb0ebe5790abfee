// Scenario: Jitsi's XMPP WebSocket through roomguard, which reads every client message (backend.jitsi,
// auth: none), against the bare proxy, with frames of the sizes a Jitsi Meet client sends while in a
// meeting: MUC presence with its extensions, keep-alive pings, chat, and Jingle source signalling. A
// second row sets it against roomguard's own relay of the same frames without reading them (a room's
// WebSocket on the generic backend): what the reading alone costs.
import { closeSockets, echoFrames, openSockets } from '../load.js';
import { ratioRow, type Row } from '../report.js';
import { alternate, median } from '../stats.js';
import { OPEN_ROOM } from '../environment.js';
import { participantBrowser, sessionCookie, signIn } from '../participants.js';
import type { Scenario } from './scenario.js';

const BUSY_SOCKETS = 50;
const ROOM = `${OPEN_ROOM}@conference.meet.jitsi`;

/** What a Jitsi Meet client sends over its XMPP WebSocket once in a room, in realistic sizes. */
export const JITSI_FRAMES: readonly string[] = [
  // Presence updates (audio/video muted, stats id, features): about 1.3 KB each.
  `<presence xmlns="jabber:client" to="${ROOM}/1a2b3c4d"><x xmlns="http://jabber.org/protocol/muc"/><stats-id>Ardella-xY3</stats-id><region id="region1" xmlns="http://jitsi.org/jitsi-meet"/><c hash="sha-1" node="https://jitsi.org/jitsi-meet" ver="Z4Uv3u5hTSkWcUzWTR0AmXhKwL8=" xmlns="http://jabber.org/protocol/caps"/><jitsi_participant_codecList>vp9,vp8,h264</jitsi_participant_codecList><videomuted>false</videomuted><audiomuted>true</audiomuted><SourceInfo>{"1a2b3c4d-a0":{"muted":true},"1a2b3c4d-v0":{"muted":false,"videoType":"camera"}}</SourceInfo><nick xmlns="http://jabber.org/protocol/nick">Ardella</nick><jitsi_participant_region>region1</jitsi_participant_region><features><feature var="http://jitsi.org/protocol/e2ee"/></features>${'<x-extension xmlns="urn:x:pad"/>'.repeat(12)}</presence>`,
  `<iq xmlns="jabber:client" type="get" to="meet.jitsi" id="ping-1"><ping xmlns="urn:xmpp:ping"/></iq>`,
  `<message xmlns="jabber:client" to="${ROOM}" type="groupchat" id="m1"><body>Can everyone see my screen now? I shared the second window.</body><nick xmlns="http://jabber.org/protocol/nick">Ardella</nick></message>`,
  // Jingle source-add to the focus: about 3 KB.
  `<iq xmlns="jabber:client" type="set" to="${ROOM}/focus" id="j1"><jingle xmlns="urn:xmpp:jingle:1" action="source-add" sid="8f3k2"><content name="video" creator="responder">${
    Array.from({ length: 12 }, (_, i) => `<description xmlns="urn:xmpp:jingle:apps:rtp:1" media="video"><source xmlns="urn:xmpp:jingle:apps:rtp:ssma:0" ssrc="${1000 + i}" name="1a2b3c4d-v0"><parameter name="msid" value="stream-${i} track-${i}"/></source></description>`).join('')
  }</content></jingle></iq>`,
];

export const xmppScenario: Scenario = {
  name: 'xmpp',
  async run(env, settings, accounts) {
    const [user] = accounts.take(1);
    const browser = participantBrowser();
    const page = await signIn(browser, env.gatewayJitsi.url, `/${OPEN_ROOM}`, user!);
    await page.arrayBuffer();
    if (page.status !== 200) throw new Error(`sign-in into the Jitsi room ended with ${page.status}`);
    const headers = { cookie: browser.jar.header(new URL(env.gatewayJitsi.url))! };
    const path = `/xmpp-websocket?room=${OPEN_ROOM}`;
    const wsOf = (origin: string) => `${origin.replace(/^http/, 'ws')}${path}`;
    const guarded = await openSockets(wsOf(env.gatewayJitsi.url), BUSY_SOCKETS, headers, 100, 'xmpp');
    const bare = await openSockets(wsOf(env.bareProxy.url), BUSY_SOCKETS, headers, 100, 'xmpp');
    const plainHeaders = { cookie: await sessionCookie(env.gateway.url, OPEN_ROOM, user!) };
    const unread = await openSockets(`${env.gateway.url.replace(/^http/, 'ws')}/rooms/${OPEN_ROOM}`, BUSY_SOCKETS, plainHeaders);
    const echo = (sockets: typeof bare) => () => echoFrames(sockets, settings.seconds, 4, JITSI_FRAMES);
    let frames: { baseline: number[]; contender: number[] };
    let reading: { baseline: number[]; contender: number[] };
    try {
      for (const sockets of [bare, guarded, unread]) await echoFrames(sockets, 1, 4, JITSI_FRAMES);
      frames = await alternate(settings.reps, echo(bare), echo(guarded));
      reading = await alternate(settings.reps, echo(unread), echo(guarded));
    } finally {
      await closeSockets([...guarded, ...bare, ...unread]);
    }
    const sizes = JITSI_FRAMES.map((f) => Buffer.byteLength(f));
    const metric = `echoed frames, ${BUSY_SOCKETS} sockets, ${Math.min(...sizes)}–${Math.max(...sizes)} B`;
    return [
      ratioRow({ scenario: 'Jitsi XMPP WebSocket, stanzas read, vs bare proxy', metric, unit: 'frames/s', baseline: median(frames.baseline), roomguard: median(frames.contender), goal: '≥ 0.85×' }, 0.85),
      ratioRow({ scenario: 'Jitsi XMPP WebSocket, stanzas read, vs roomguard relaying them unread', metric, unit: 'frames/s', baseline: median(reading.baseline), roomguard: median(reading.contender), goal: 'report' }),
    ] satisfies Row[];
  },
};
