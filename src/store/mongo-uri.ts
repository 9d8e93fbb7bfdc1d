// Plain string handling rather than WHATWG URL: a MongoDB URI may list several hosts
// (`mongodb://a:1,b:2/db`), which URL cannot parse.
const URI_RE = /^(mongodb(?:\+srv)?:\/\/)((?:[^/?@]*@)?[^/?@]+)(?:\/([^?]*))?(?:\?(.*))?$/;

// MongoDB refuses these in database names; FerretDB allows only [A-Za-z0-9_-]{1,63}.
const DATABASE_NAME_RE = /^[A-Za-z0-9_-]{1,63}$/;

interface ParsedUri {
  scheme: string;
  authority: string;
  database: string;
  params: string[];
}

function parse(uri: string): ParsedUri {
  const match = URI_RE.exec(uri);
  if (!match) {
    throw new Error(
      `Not a MongoDB connection string (mongodb://… or mongodb+srv://…): ${redact(uri)}`,
    );
  }
  const [, scheme, authority, database = '', query = ''] = match;
  return { scheme, authority, database, params: query ? query.split('&') : [] };
}

/** The database named in the URI's path, or undefined when it has none. */
export function databaseOf(uri: string): string | undefined {
  const { database } = parse(uri);
  return database ? decodeURIComponent(database) : undefined;
}

/**
 * The same connection string pointed at another database. When the URI carries credentials
 * and no authSource, the path's database was also where those credentials live, so it is kept
 * as authSource (default `admin`) instead of silently moving authentication elsewhere.
 */
export function withDatabase(uri: string, database: string): string {
  if (!DATABASE_NAME_RE.test(database)) {
    throw new Error(`Invalid database name "${database}": use 1-63 characters of A-Z a-z 0-9 _ -`);
  }
  const parsed = parse(uri);
  const params = [...parsed.params];
  const hasCredentials = parsed.authority.includes('@');
  const hasAuthSource = params.some((p) => p.toLowerCase().startsWith('authsource='));
  if (hasCredentials && !hasAuthSource) {
    params.push(`authSource=${parsed.database || 'admin'}`);
  }
  const query = params.length > 0 ? `?${params.join('&')}` : '';
  return `${parsed.scheme}${parsed.authority}/${database}${query}`;
}

/** The URI with any password replaced, for logs and error messages. */
export function redact(uri: string): string {
  return uri.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]+:)[^@/]*@/i, '$1***@');
}
