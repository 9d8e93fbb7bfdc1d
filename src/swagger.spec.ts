import type { AppConfig } from './config/app-config';
import { adminBaseUrl } from './swagger';

const at = (host: string, port: number) => adminBaseUrl({ host, port } as AppConfig);

describe('adminBaseUrl (the OpenAPI server of the admin API)', () => {
  it.each([
    ['127.0.0.1', 3000, 'http://127.0.0.1:3000'],
    ['0.0.0.0', 8080, 'http://127.0.0.1:8080'],
    ['::', 8080, 'http://127.0.0.1:8080'],
    ['::1', 3000, 'http://[::1]:3000'],
    ['api.example.test', 80, 'http://api.example.test:80'],
    // PORT=0 listens on any free port: relative to the document, which that server serves.
    ['127.0.0.1', 0, '/'],
  ])('HOST %s PORT %d → %s', (host, port, url) => {
    expect(at(host, port)).toBe(url);
  });
});
