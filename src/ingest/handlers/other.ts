import type { Handler } from '../kit.js';
import type { Route } from '../router.js';

/** Topics that are no reading, command or Sparkplug message. */
export const handleUnknown: Handler<Extract<Route, { kind: 'unknown' }>> = (route, topic, payload, _ack, kit) => {
  kit.deadLetter(topic, payload, route.reason, route.detail);
  return false;
};

/** The daemon's own outputs coming back through a broad subscription: not input, not an error. */
export const handleOwn: Handler<Extract<Route, { kind: 'own' }>> = (_route, _topic, _payload, _ack, kit) => {
  kit.count('ignored', 'own_output');
  return false;
};
