export interface SyncmlHttpResult {
  status: number;
  /** SyncML response (UTF-8 text) for 200; a short reason otherwise. */
  body: string;
  contentType: string;
  headers?: Record<string, string>;
}

export const plain = (
  status: number,
  body: string,
  headers?: Record<string, string>,
): SyncmlHttpResult => ({
  status,
  body,
  contentType: 'text/plain; charset=utf-8',
  headers,
});
