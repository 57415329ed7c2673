import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { loadConfig } from '../../src/config/load.js';
import type { LoopId, StageId } from '../../src/contract/plant.js';
import * as topics from '../../src/contract/topics.js';
import { silentLogger } from '../../src/lib/logger.js';
import { createRuntime } from '../../src/runtime.js';
import { repoRoot, tempDir } from '../helpers/daemon.js';

/** README.md and docs/: what a user reads. A metric or topic the code has and they lack fails here. */
const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
const docs = [readme, ...readdirSync(join(repoRoot, 'docs')).filter((f) => f.endsWith('.md')).map((f) => readFileSync(join(repoRoot, 'docs', f), 'utf8'))].join('\n');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** The README bullet (a line starting with "- " and its continuation lines) that names a topic. */
function bullet(topic: string): string | undefined {
  const lines = readme.split('\n');
  const at = lines.findIndex((l) => l.startsWith('- ') && l.includes(`\`${topic}\``));
  if (at < 0) return undefined;
  const out = [lines[at]!];
  for (let i = at + 1; i < lines.length && lines[i]!.startsWith('  '); i++) out.push(lines[i]!);
  return out.join('\n');
}

const keys = (schema: z.ZodType): string[] => Object.keys((schema as unknown as { shape: Record<string, unknown> }).shape);

describe('README and docs cover the contract', () => {
  it('documents every wwtp_edge_* metric, registered at run time or named in the sources', () => {
    const named = new Set<string>();
    for (const file of sources(join(repoRoot, 'src'))) {
      for (const m of readFileSync(file, 'utf8').matchAll(/['"`](wwtp_edge_[a-z0-9_]+)['"`]/g)) named.add(m[1]!);
    }
    const dir = tempDir('wwtp-docs-');
    const runtime = createRuntime(
      loadConfig({ override: { storage: { path: join(dir, 'edge.sqlite') }, broker: { mode: 'embedded', embedded: { port: 0, wsPort: null } }, http: { port: 0 }, sync: { enabled: true } } }),
      { logger: silentLogger() },
    );
    for (const metric of runtime.metrics.registry.getMetricsAsArray()) named.add(metric.name);
    const families = ['wwtp_edge_process_', 'wwtp_edge_nodejs_'];
    const missing = [...named].filter((name) => {
      const family = families.find((f) => name.startsWith(f));
      if (family) return !docs.includes(`${family}*`);
      return !new RegExp(`\\b${name}\\b`).test(docs);
    });
    expect(named.size).toBeGreaterThan(25);
    expect(missing, 'metrics in the code but not in README.md or docs/').toEqual([]);
  });

  it('documents every published topic with its payload fields, and every inbound topic', () => {
    const params = { stage: '{stage}' as StageId, loop: '{loop}' as LoopId, signal: '{signal}', name: '{name}', alarmId: '{alarmId}' };
    const payloads: Partial<Record<topics.OutKind, z.ZodType>> = {
      setpoint: topics.setpointMessage,
      recommendation: topics.recommendationMessage,
      prediction: topics.predictionMessage,
      indicator: topics.indicatorMessage,
      anomaly: topics.anomalyMessage,
      alarm: topics.alarmMessage,
      deadletter: topics.deadLetterMessage,
      models: topics.modelsMessage,
    };
    const problems: string[] = [];
    for (const kind of Object.keys(topics.OUT_OPTIONS) as topics.OutKind[]) {
      const topic = topics.outTopic('{site}', kind, params as never);
      const text = bullet(topic);
      if (!text) {
        problems.push(`${kind}: ${topic} not in the README's topic list`);
        continue;
      }
      const schema = payloads[kind];
      if (schema) for (const key of keys(schema)) if (!text.includes(`"${key}"`)) problems.push(`${kind}: payload field "${key}" not documented`);
      if (kind === 'models') for (const key of keys(topics.modelLiveMessage)) if (!text.includes(`"${key}"`)) problems.push(`models: entry field "${key}" not documented`);
    }
    const inbound: [string, z.ZodType | undefined][] = [
      [topics.readingTopic('{site}', '{stage}' as StageId, '{signal}'), topics.readingJson],
      [topics.hmiAlarmAckTopic('{site}', '{alarmId}'), topics.alarmAck],
      [topics.hmiAlarmShelveTopic('{site}', '{alarmId}'), topics.alarmShelve],
      [topics.hmiLoopModeTopic('{site}', '{loop}' as LoopId), topics.loopMode],
      [topics.hmiLoopDecisionTopic('{site}', '{loop}' as LoopId), topics.loopDecision],
    ];
    for (const [topic, schema] of inbound) {
      const text = bullet(topic) ?? readme.split('\n').find((l) => l.includes(`\`${topic}\``));
      if (!text) {
        problems.push(`${topic} not in the README`);
        continue;
      }
      if (schema) for (const key of keys(schema)) if (!readme.includes(`"${key}"`)) problems.push(`${topic}: field "${key}" not documented`);
    }
    if (!readme.includes('spBv1.0/')) problems.push('Sparkplug topics not in the README');
    expect(problems).toEqual([]);
  });
});
