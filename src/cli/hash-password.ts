import { hashPassword } from '../broker/index.js';
import { UsageError, type CliIo, type ExitCode } from './io.js';

/** `wwtp-edge hash-password SECRET`: the scrypt hash for broker.embedded.users[].passwordHash. */
export async function hashPasswordCommand(password: string, io: CliIo): Promise<ExitCode> {
  if (password.length < 8) throw new UsageError('a broker password needs at least 8 characters');
  io.stdout.write(`${await hashPassword(password)}\n`);
  return 0;
}
