import { EdgeError } from '../lib/lifecycle.js';

/** Codes: MODEL_GATE_FAILED, MODEL_NOT_FOUND, MODEL_INPUTS_UNSUPPORTED, MODEL_NO_PREVIOUS, MODEL_RUN_FAILED. */
export class ModelError extends EdgeError {
  constructor(code: string, message: string, exitCode: 1 | 2 = 1) {
    super(code, message, exitCode);
    this.name = 'ModelError';
  }
}
