// The live sessions of the gateways' store, as the CLI commands that end or list them see them: the
// config's session limits, and the session bus, so that a session ended here is announced to every
// running instance (which closes its WebSockets at once).
import type { Config } from '../config/schema.js';
import type { Sessions } from '../session/sessions.js';
import type { Store } from '../store/store.js';

export async function withStoreSessions<T>(config: Config, store: Store, use: (sessions: Sessions) => Promise<T>): Promise<T> {
  const { Sessions } = await import('../session/sessions.js');
  const { openSessionBus } = await import('../store/bus.js');
  const bus = await openSessionBus(store, config.store.keyPrefix);
  try {
    return await use(new Sessions(store, { idleMs: config.session.idleTimeout, absoluteMs: config.session.absoluteTimeout }, Date.now, { bus }));
  } finally {
    await bus.close();
  }
}
