import { hashPassword } from '../broker/index.js';
import { UsageError, type CliIo, type ExitCode } from './io.js';

/**
 * `wwtp-edge hash-password [SECRET]`: the scrypt hash for broker.embedded.users[].passwordHash. Without
 * SECRET (an argument stays in the shell history) it asks for it without echo on a terminal, or reads
 * the first line of stdin (`wwtp-edge hash-password < secret.txt`).
 */
export async function hashPasswordCommand(password: string | undefined, io: CliIo): Promise<ExitCode> {
  const secret = password ?? (await readSecret(io));
  if (secret.length < 8) throw new UsageError('a broker password needs at least 8 characters');
  io.stdout.write(`${await hashPassword(secret)}\n`);
  return 0;
}

async function readSecret(io: CliIo): Promise<string> {
  const stdin = io.stdin;
  if (!stdin) throw new UsageError('no password given: pass it as an argument or on stdin');
  if (stdin.isTTY && stdin.setRawMode) return promptHidden(stdin as typeof stdin & { setRawMode: (raw: boolean) => unknown }, io);
  let text = '';
  for await (const chunk of stdin) {
    text += String(chunk);
    if (text.includes('\n')) break;
  }
  const line = text.split(/\r?\n/)[0] ?? '';
  if (line.length === 0) throw new UsageError('no password on stdin');
  return line;
}

function promptHidden(stdin: NonNullable<CliIo['stdin']> & { setRawMode: (raw: boolean) => unknown }, io: CliIo): Promise<string> {
  io.stderr.write('password (not shown): ');
  stdin.setRawMode(true);
  stdin.resume();
  return new Promise((resolve, reject) => {
    let typed = '';
    const done = (error?: Error): void => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      io.stderr.write('\n');
      if (error) reject(error);
      else resolve(typed);
    };
    const onData = (chunk: Buffer): void => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return done();
        if (ch === '\u0003') return done(new UsageError('cancelled'));
        if (ch === '\u007f' || ch === '\b') typed = typed.slice(0, -1);
        else typed += ch;
      }
    };
    stdin.on('data', onData);
  });
}
