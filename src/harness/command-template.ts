/**
 * The command line that starts one node of an implementation under test, from a template such as
 * `python3 peer.py --id {id} --listen {listen} --peers {peers} --data {data} --tls-dir {tls}`.
 * The template is split into words as a shell would (spaces, single and double quotes, no
 * expansion) and run without a shell; placeholders are replaced inside each word.
 */
export const PLACEHOLDERS: Record<string, string> = {
  id: 'the node id, 1..N',
  n: 'the number of nodes N',
  host: 'the host the node listens on (127.0.0.1)',
  port: 'the port the node listens on',
  listen: 'host:port',
  peers: 'the other nodes as id=host:port,... (the addresses of the proxies of its links)',
  data: "the node's own data folder (kept across restarts)",
  tls: 'the folder with ca.pem, node-<id>.pem and node-<id>.key',
  ca: 'the CA certificate file',
  cert: "the node's certificate file (node-<id>.pem)",
  key: "the node's private key file (node-<id>.key)",
  cluster: 'the cluster id its hellos must carry',
};

/** Splits a template into words; throws on an unclosed quote. */
export function splitWords(template: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (const c of template) {
    if (quote) {
      if (c === quote) quote = null;
      else word += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote) throw new Error(`the command template has an unclosed ${quote}`);
  if (inWord) words.push(word);
  return words;
}

/** Checks a template: words, and only known placeholders. Returns its words. */
export function checkTemplate(template: string): string[] {
  const words = splitWords(template);
  if (!words.length) throw new Error('the command template is empty');
  for (const w of words) {
    for (const m of w.matchAll(/\{([^}]*)\}/g)) {
      if (!(m[1] in PLACEHOLDERS)) throw new Error(`unknown placeholder {${m[1]}} in the command template (known: ${Object.keys(PLACEHOLDERS).map((p) => `{${p}}`).join(' ')})`);
    }
  }
  return words;
}

/** The argv of one node: the template's words with every placeholder replaced. */
export function expandTemplate(words: readonly string[], values: Record<keyof typeof PLACEHOLDERS, string>): string[] {
  return words.map((w) => w.replace(/\{([^}]*)\}/g, (_, name: string) => values[name]));
}
