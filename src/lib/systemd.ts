import { execFile } from 'node:child_process';

/**
 * sd_notify through the `systemd-notify` tool (Node has no unix datagram sockets); the unit sets
 * NotifyAccess=all. Does nothing when systemd did not ask (no NOTIFY_SOCKET).
 */
export interface SystemdNotifier {
  ready(): void;
  watchdog(): void;
  stopping(): void;
  /** Watchdog period requested by systemd, ms, or undefined. */
  readonly watchdogMs: number | undefined;
}

export function createSystemdNotifier(env: Readonly<Record<string, string | undefined>>, onError: (e: unknown) => void): SystemdNotifier {
  const socket = env['NOTIFY_SOCKET'];
  const usec = Number(env['WATCHDOG_USEC']);
  const watchdogMs = Number.isFinite(usec) && usec > 0 ? usec / 1000 : undefined;
  const send = (...args: string[]): void => {
    if (!socket) return;
    execFile('systemd-notify', args, { env: { NOTIFY_SOCKET: socket } }, (error) => {
      if (error) onError(error);
    });
  };
  return {
    ready: () => send('--ready', `--status=running`),
    watchdog: () => send('WATCHDOG=1'),
    stopping: () => send('STOPPING=1'),
    watchdogMs,
  };
}
