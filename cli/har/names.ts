/**
 * A path with its ids turned into `:id` so that a metric groups them: numbers, UUIDs, long hex
 * strings and long tokens mixing letters and digits. `/orders/1842/items/9f1c…` →
 * `/orders/:id/items/:id`. Other segments stay as they are.
 */
export function groupIds(pathname: string): string {
  return pathname
    .split('/')
    .map((s) => (isId(decodeSafe(s)) ? ':id' : s))
    .join('/');
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isId(segment: string): boolean {
  if (segment === '') return false;
  if (/^\d+$/.test(segment)) return true;
  if (UUID.test(segment)) return true;
  if (/^[0-9a-f]{12,}$/i.test(segment) && /\d/.test(segment)) return true;
  // Opaque tokens: 16+ characters of letters, digits, '-' and '_' with both letters and digits.
  return segment.length >= 16 && /^[A-Za-z0-9_-]+$/.test(segment) && /\d/.test(segment) && /[A-Za-z]/.test(segment);
}

function decodeSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
