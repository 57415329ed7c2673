import { isLoop } from '../../contract/plant.js';
import type { HmiCommand } from '../../contract/ports.js';
import { alarmAck, alarmShelve, alarmVerdict, loopDecision, loopMode } from '../../contract/topics.js';
import type { Handler } from '../kit.js';
import type { Route } from '../router.js';
import type { Rejection } from '../validate.js';

const ALARM_ID = /^[A-Za-z0-9_.:-]{1,128}$/;

function body(payload: Buffer): unknown {
  try {
    return JSON.parse(payload.toString('utf8'));
  } catch {
    return undefined;
  }
}

function issue(error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] }): string {
  const first = error.issues[0];
  return first ? `${first.path.map(String).join('.') || '(root)'}: ${first.message}` : 'invalid body';
}

/** The one-line reason for an ack whose verdict is not one (the whole ack is refused, kept in dead letters). */
function badVerdict(json: unknown): string | undefined {
  if (typeof json !== 'object' || json === null || !('verdict' in json)) return undefined;
  const verdict = (json as { verdict: unknown }).verdict;
  if (verdict === undefined || alarmVerdict.safeParse(verdict).success) return undefined;
  return `verdict ${JSON.stringify(verdict)?.slice(0, 40) ?? String(verdict)} is not "false_alarm" or "confirmed": ack not applied, send it again with one of them or without a verdict`;
}

/**
 * The HMI's command topics under `wwtp/{site}/hmi/`: alarm ack/shelve, loop mode and the decision on a
 * loop's recommendation. The web HMI's actions are decoded here too (one code path).
 */
export function decodeHmiCommand(path: readonly string[], payload: Buffer, ts: number): HmiCommand | Rejection | undefined {
  const [area, id, verb] = path;
  if (path.length !== 3 || area === undefined || id === undefined || verb === undefined) return undefined;
  if (area === 'alarms' && (verb === 'ack' || verb === 'shelve')) {
    if (!ALARM_ID.test(id)) return { reason: 'invalid_command', detail: 'bad alarm id' };
    const json = body(payload);
    if (json === undefined) return { reason: 'invalid_command', detail: 'body is not JSON' };
    if (verb === 'ack') {
      const parsed = alarmAck.safeParse(json);
      if (!parsed.success) return { reason: 'invalid_command', detail: badVerdict(json) ?? issue(parsed.error) };
      return { kind: 'alarm_ack', alarmId: id, by: parsed.data.by, comment: parsed.data.comment, verdict: parsed.data.verdict, ts };
    }
    const parsed = alarmShelve.safeParse(json);
    if (!parsed.success) return { reason: 'invalid_command', detail: issue(parsed.error) };
    return { kind: 'alarm_shelve', alarmId: id, by: parsed.data.by, minutes: parsed.data.minutes, comment: parsed.data.comment, ts };
  }
  if (area === 'loops' && (verb === 'mode' || verb === 'decision')) {
    if (!isLoop(id)) return { reason: 'invalid_command', detail: `unknown loop ${id}` };
    const json = body(payload);
    if (json === undefined) return { reason: 'invalid_command', detail: 'body is not JSON' };
    if (verb === 'decision') {
      const decided = loopDecision.safeParse(json);
      if (!decided.success) return { reason: 'invalid_command', detail: issue(decided.error) };
      return { kind: 'loop_decision', loop: id, accept: decided.data.accept, by: decided.data.by, comment: decided.data.comment, ts };
    }
    const parsed = loopMode.safeParse(json);
    if (!parsed.success) return { reason: 'invalid_command', detail: issue(parsed.error) };
    if (parsed.data.value !== undefined && !Number.isFinite(parsed.data.value)) return { reason: 'invalid_command', detail: 'value is not finite' };
    return { kind: 'loop_mode', loop: id, mode: parsed.data.mode, value: parsed.data.value, by: parsed.data.by, ts };
  }
  return undefined;
}

export const handleHmi: Handler<Extract<Route, { kind: 'hmi' }>> = (route, topic, payload, _ack, kit) => {
  const decoded = decodeHmiCommand(route.path, payload, kit.now());
  if (decoded === undefined) kit.deadLetter(topic, payload, 'unknown_topic', 'not an HMI command topic');
  else if ('reason' in decoded) {
    // An operator's command that did nothing: said in the log as well as in the dead letters.
    kit.logger.warn({ topic, reason: decoded.reason, detail: decoded.detail }, `HMI command refused: ${decoded.detail ?? decoded.reason}`);
    kit.deadLetter(topic, payload, decoded.reason, decoded.detail);
  }
  else kit.command(decoded);
  return false;
};
