import { canonical } from './canonical.js';

/** Renders a message like etcd's interaction traces: `vote_request term=2 lastIndex=1`. */
export function describeMessage(msg: Record<string, unknown>): string {
  const fields = Object.keys(msg)
    .filter((k) => k !== 'type')
    .sort()
    .map((k) => `${k}=${typeof msg[k] === 'object' ? canonical(msg[k]) : String(msg[k])}`);
  return [String(msg.type), ...fields].join(' ');
}
