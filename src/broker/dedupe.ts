/**
 * aedes drops a QoS 1/2 packet for a client when its broker counter is not above the last one that
 * client was sent (`client.duplicates`, meant for packets coming round twice in a broker cluster). Its
 * own publish path does not keep that order: a retained packet waits for the retained store, a
 * non-retained one published just after it does not, so an alarm (retained) followed by an anomaly
 * message (not retained) reached an HMI as the anomaly only. One embedded broker has no cluster
 * duplicates, and QoS 1 is at-least-once anyway: every packet is forwarded.
 */
const FORWARD_ALL: Record<string, number> = new Proxy(Object.create(null) as Record<string, number>, {
  get: () => undefined,
  set: () => true,
  deleteProperty: () => true,
});

/** Turns the duplicate filter of one aedes client off; false when the client does not have the expected shape. */
export function forwardEveryPacket(client: unknown): boolean {
  const c = client as { duplicates?: unknown } | null;
  if (typeof c !== 'object' || c === null || typeof c.duplicates !== 'object' || c.duplicates === null) return false;
  c.duplicates = FORWARD_ALL;
  return true;
}
