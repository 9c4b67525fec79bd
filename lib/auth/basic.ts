/**
 * HTTP Basic credentials (RFC 7617), as Confluent registry clients send an API key and secret
 * (`basic.auth.user.info`). Pure: the registry API resolves the password as an API token itself.
 */

/** Longest Authorization value worth decoding: a token is 47 characters, a user name rarely more than a few hundred. */
export const MAX_BASIC_CREDENTIALS_LENGTH = 4096;

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * The user name and password of a `Basic` Authorization header value, or null when the value is not Basic, not
 * valid base64, not UTF-8, or has no colon. The password is everything after the first colon (user names cannot
 * hold one, passwords can).
 */
export function parseBasicCredentials(authorization: string): { username: string; password: string } | null {
  if (authorization.length > MAX_BASIC_CREDENTIALS_LENGTH) return null;
  const match = /^Basic[ \t]+(\S+)[ \t]*$/i.exec(authorization);
  if (!match) return null;
  const encoded = match[1]!;
  if (encoded.length % 4 === 1 || !BASE64.test(encoded)) return null;
  let decoded: string;
  try {
    decoded = new TextDecoder("utf-8", { fatal: true }).decode(Buffer.from(encoded, "base64"));
  } catch {
    return null;
  }
  const colon = decoded.indexOf(":");
  if (colon === -1) return null;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
