// Small address helpers for config validation (trusted proxies, loopback-only http).
import { isIP } from 'node:net';

export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '');
  return bare === 'localhost' || bare === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(bare);
}

export function parseCidr(text: string): { address: string; prefix: number } | undefined {
  const [address, prefixText] = text.split('/');
  const family = isIP(address ?? '');
  if (!address || family === 0) return undefined;
  const max = family === 4 ? 32 : 128;
  if (prefixText === undefined) return { address, prefix: max };
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > max) return undefined;
  return { address, prefix: Number(prefixText) };
}
