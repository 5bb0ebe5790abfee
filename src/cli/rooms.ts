// `roomguard rooms lock|unlock|evict`: the moderator page's room controls for admins at the shell, on the
// same store and bus as the running gateways, so every instance acts within a second. Each step is
// written to the CLI's own audit chain with who ran it (`cli:<account>`).
import { loadConfigFile, policiesDirOf } from '../config/load.js';
import { backendFor } from '../backends/from-config.js';
import { loadPolicyDir } from '../policy/load.js';
import { policyFor } from '../policy/decide.js';
import { roomFromSegments } from '../guests/room-path.js';
import { auditOnce, cliUser } from './invite-commands.js';
import type { RoomAction, RoomActionResult } from '../rooms/actions.js';
import { UsageError } from './cli-args.js';
import { printProblems } from './output.js';
import { EXIT, type CliIo, type CommandArgs } from './table.js';

export async function roomsCommand(action: RoomAction, args: CommandArgs, io: CliIo): Promise<number> {
  const { config, problems } = loadConfigFile(args.string('config'));
  if (!config) {
    printProblems(problems);
    return EXIT.problems;
  }
  const roomText = args.string('room')!;
  const backend = backendFor(config);
  const room = roomFromSegments(roomText.split('/'));
  if (!room || backend.pathOf(room) === undefined) throw new UsageError(`--room: "${roomText}" is not a room of this ${config.backend.type} backend`);
  const loaded = loadPolicyDir(policiesDirOf(config), backend.reservedRooms);
  if (loaded.set && !policyFor(room, loaded.set).policy) io.err(`roomguard: note: no policy matches ${room}, so nobody enters it anyway\n`);
  const { openStore } = await import('../store/open.js');
  const { openSessionBus } = await import('../store/bus.js');
  const { RoomControls } = await import('../rooms/controls.js');
  const { evictFromRoom, lockRoom, unlockRoom } = await import('../rooms/actions.js');
  const store = await openStore(config);
  const bus = await openSessionBus(store, config.store.keyPrefix);
  try {
    const controls = new RoomControls(store, bus);
    const by = `cli:${cliUser()}`;
    const user = args.string('user');
    let result: RoomActionResult;
    if (action === 'lock') result = await lockRoom(controls, room, by);
    else if (action === 'unlock') result = await unlockRoom(controls, room, by);
    else result = await evictFromRoom(controls, backend, room, user === undefined ? 'everyone' : { sub: user }, by);
    controls.stop();
    await auditOnce(config, store, { type: result.type, outcome: 'success', actor: { sub: by, iss: 'roomguard-cli' }, room, details: { ...result.details, via: 'cli' } });
    io.out(`${room}: ${summary(action, user)}${typeof result.details.backendEnd === 'string' ? ` (backend: ${result.details.backendEnd})` : ''}\n`);
    return EXIT.ok;
  } finally {
    await bus.close();
    await store.close();
  }
}

function summary(action: RoomAction, user: string | undefined): string {
  if (action === 'lock') return 'locked on every instance; nobody new is admitted';
  if (action === 'unlock') return 'unlocked on every instance; evicted people may enter again';
  return user === undefined ? 'everyone evicted on every instance' : `${user} evicted on every instance and kept out until the room is unlocked (at most 12 hours)`;
}
