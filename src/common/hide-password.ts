/** `scheme://user:secret@host` → `scheme://user:***@host` (and `?password=…`), for messages about a URL that may not parse. */
export function hidePassword(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/:@]*):[^@/]*@/i, '$1:***@').replace(/([?&]password=)[^&]*/i, '$1***');
}
