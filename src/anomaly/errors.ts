import { EdgeError } from '../lib/lifecycle.js';

/** Offline detector failures; exit code 2 for bad usage or bad input, 1 for runtime faults. */
export class AnomalyError extends EdgeError {
  constructor(code: string, message: string, exitCode: 1 | 2 = 2) {
    super(code, message, exitCode);
    this.name = 'AnomalyError';
  }
}
