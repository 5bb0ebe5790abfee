// Starts a private redis-server on a free loopback port for the whole test run, so tests never touch
// anyone's data (the one Redis launcher: test/helpers/redis-servers.ts). Fails with the package name when
// redis-server is not installed.
import type { TestProject } from 'vitest/node';
import { startRedis } from '../helpers/redis-servers.js';

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
    redisPort: number;
  }
}

export default async function setup(project: TestProject) {
  const redis = await startRedis('run');
  project.provide('redisUrl', redis.url);
  project.provide('redisPort', redis.port);
  return async () => {
    await redis.stop();
  };
}
