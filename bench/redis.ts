// A private redis-server for one benchmark run (never anyone's 6379 data), without persistence: sessions
// live only as long as the run. Started by the tests' one Redis launcher (test/helpers/redis-servers.ts).
import { startRedis } from '../test/helpers/redis-servers.js';

export interface PrivateRedis {
  url: string;
  pid: number;
  close(): Promise<void>;
}

export async function startPrivateRedis(): Promise<PrivateRedis> {
  const redis = await startRedis('bench');
  return { url: redis.url, pid: redis.process.pid!, close: () => redis.stop() };
}
