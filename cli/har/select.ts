import type { HarEntry } from './har';

const STATIC_TYPES = new Set(['script', 'stylesheet', 'image', 'font', 'media', 'manifest', 'texttrack', 'ping', 'preflight', 'websocket', 'other-static']);
const STATIC_EXTENSIONS = /\.(?:js|mjs|css|png|jpe?g|gif|svg|webp|avif|ico|bmp|woff2?|ttf|otf|eot|map|mp4|webm|mp3|wav|txt)$/i;
const STATIC_MIME = /^(?:image|font|audio|video)\/|^text\/css|javascript/i;

/** True for a request a browser makes for the page's assets (scripts, styles, images, fonts, media). */
export function isStatic(e: HarEntry): boolean {
  if (e.request.method.toUpperCase() === 'OPTIONS') return true;
  if (e._resourceType && STATIC_TYPES.has(e._resourceType)) return true;
  if (e._resourceType === 'xhr' || e._resourceType === 'fetch' || e._resourceType === 'document') return false;
  let pathname: string;
  try {
    pathname = new URL(e.request.url).pathname;
  } catch {
    return false;
  }
  if (STATIC_EXTENSIONS.test(pathname)) return true;
  return STATIC_MIME.test(e.response.content?.mimeType ?? '');
}

export interface Selection {
  kept: HarEntry[];
  /** The origin whose requests become relative to the target (`https://shop.example.com`). */
  origin: string;
  droppedStatic: number;
  droppedHosts: Map<string, number>;
}

/**
 * The entries of the journey: on the hosts given (default: the host of the first request that
 * is not an asset), assets dropped unless `keepStatic`, data: and blob: URLs always dropped.
 */
export function selectEntries(entries: HarEntry[], o: { includeHosts?: string[]; keepStatic?: boolean }): Selection {
  const web = entries.filter((e) => /^https?:\/\//i.test(e.request.url));
  const first = web.find((e) => !isStatic(e)) ?? web[0];
  const hosts = new Set((o.includeHosts ?? []).map((h) => h.toLowerCase()));
  if (hosts.size === 0 && first) hosts.add(new URL(first.request.url).host.toLowerCase());
  const droppedHosts = new Map<string, number>();
  let droppedStatic = 0;
  const kept: HarEntry[] = [];
  for (const e of web) {
    const url = new URL(e.request.url);
    if (!hosts.has(url.host.toLowerCase()) && !hosts.has(url.hostname.toLowerCase())) {
      droppedHosts.set(url.host, (droppedHosts.get(url.host) ?? 0) + 1);
      continue;
    }
    if (!o.keepStatic && isStatic(e)) {
      droppedStatic++;
      continue;
    }
    kept.push(e);
  }
  const origin = kept[0] ? new URL(kept[0].request.url).origin : first ? new URL(first.request.url).origin : 'http://127.0.0.1:8080';
  return { kept, origin, droppedStatic, droppedHosts };
}
