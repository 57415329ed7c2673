import type { HmiCommand, TableWriter } from '../contract/ports.js';
import type { OperatorActionRow } from '../contract/rows.js';
import type { Recommendation } from '../control/index.js';
import type { Logger } from '../lib/logger.js';

/** Where HMI commands go: the alarm module (ack, shelve) and control (mode, decision). */
export interface CommandTargets {
  readonly alarms: { onCommand(cmd: HmiCommand): void };
  readonly control: { onCommand(cmd: HmiCommand): unknown; snapshot(): Readonly<Record<string, { readonly pending?: Recommendation | undefined }>> };
}

export type CommandSource = OperatorActionRow['source'];
export type CommandDispatch = (cmd: HmiCommand, source: CommandSource) => void;

function target(cmd: HmiCommand): string {
  return cmd.kind === 'alarm_ack' || cmd.kind === 'alarm_shelve' ? cmd.alarmId : cmd.loop;
}

/** The command's own fields, plus for a decision the recommendation it decides on. */
function detail(cmd: HmiCommand, targets: CommandTargets): Record<string, unknown> {
  const { kind: _kind, by: _by, ts: _ts, ...rest } = cmd;
  if (cmd.kind !== 'loop_decision') return rest;
  return { ...rest, recommendation: targets.control.snapshot()[cmd.loop]?.pending ?? null };
}

/**
 * The one path of every HMI command, from the MQTT topics (ingest) and from the web HMI alike: an
 * operator_actions row with who and when, then the alarm module and control.
 */
export function createCommandDispatch(ctx: { readonly targets: CommandTargets; readonly tables: TableWriter; readonly logger: Logger }): CommandDispatch {
  const log = ctx.logger.child({ component: 'hmi' });
  return (cmd, source) => {
    try {
      const row: OperatorActionRow = { ts: cmd.ts, by: cmd.by, action: cmd.kind, target: target(cmd), source, detail: JSON.stringify(detail(cmd, ctx.targets)) };
      ctx.tables.insert('operator_actions', [row]);
    } catch (error) {
      log.error({ err: String(error), kind: cmd.kind }, 'operator action not recorded');
    }
    ctx.targets.alarms.onCommand(cmd);
    ctx.targets.control.onCommand(cmd);
  };
}
