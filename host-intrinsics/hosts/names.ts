// The names of the host engines a guest can run on (engines.ts starts them). Kept apart so the
// CLI can parse a command line without loading any engine code.

export const HOSTS = ['node', 'node-liftoff', 'spidermonkey', 'chromium', 'vm'] as const;
export type HostName = (typeof HOSTS)[number];

export function isHostName(s: string): s is HostName {
  return (HOSTS as readonly string[]).includes(s);
}
