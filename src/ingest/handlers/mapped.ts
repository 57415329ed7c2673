import type { TagMap } from '../../mapping/tag-map.js';
import type { Handler } from '../kit.js';
import type { Route } from '../router.js';

/**
 * A plant's own topic (config `tags.mqtt`): its tags read from the payload, mapped to signals with
 * their units converted, then the same checks as any reading. A tag that no point maps is a dead
 * letter `unmapped`, like a message that no pattern covers.
 */
export function createMappedHandler(tags: TagMap): Handler<Extract<Route, { kind: 'mapped' }>> {
  return (route, topic, payload, ack, kit) => {
    if (payload.length === 0) {
      kit.deadLetter(topic, payload, 'unparseable', 'empty payload');
      return false;
    }
    const samples = tags.decode(route.source, route.levels, payload);
    if (!Array.isArray(samples)) {
      kit.deadLetter(topic, payload, samples.reason, samples.detail);
      return false;
    }
    const mapped = tags.map(samples, kit.now(), kit.window);
    for (const r of mapped.rejections) kit.deadLetter(topic, payload, r.reason, r.detail);
    if (mapped.unmapped.length > 0 || samples.length === 0) {
      const detail = samples.length === 0 ? 'no tag in the message' : `no tags.points entry for ${mapped.unmapped.slice(0, 20).join(', ')}`;
      kit.deadLetter(topic, payload, 'unmapped', detail);
    }
    if (mapped.dropped > 0) kit.count('ignored', 'invalid_tag_value');
    if (mapped.readings.length === 0) return false;
    kit.commit(mapped.readings, ack);
    return true;
  };
}
