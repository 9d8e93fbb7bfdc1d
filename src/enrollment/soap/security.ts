import { XmlElement, textOf } from '../../common/xml';
import { Ns } from './namespaces';
import {
  SoapRequestError,
  attributeOf,
  optionalChild,
  readBinaryToken,
  requiredChild,
} from './soap-request';

/** The credential of a GetPolicies or RST request's wsse:Security header (enrollment.md §5.2). */
export type WsSecurityCredential =
  | { kind: 'none' }
  | {
      kind: 'username';
      /** Trimmed; for OnPremise this is what the user typed, not necessarily the discovery e-mail. */
      username: string;
      /** Verbatim: plain text protected only by TLS. Never log it. */
      password: string;
      passwordType?: string;
    }
  | {
      kind: 'binary-token';
      /** DeviceEnrollmentUserToken (Federated / RegisterDeviceWithManagement) or the Entra JWT type. */
      valueType: string;
      /** The base64-decoded token: exactly what the server issued (MS-MDE2 3.4.4.1.1.1.1). */
      token: string;
    };

/**
 * A UsernameToken wins over a BinarySecurityToken when both are present. A Security header
 * we cannot read is `invalid-security`, which the caller maps to a:InvalidSecurity (§11.1).
 */
export function readCredential(header: XmlElement | undefined): WsSecurityCredential {
  if (!header) return { kind: 'none' };
  try {
    const security = optionalChild(header, Ns.WssSecext, 'Security');
    if (!security) return { kind: 'none' };
    const usernameToken = optionalChild(security, Ns.WssSecext, 'UsernameToken');
    if (usernameToken) return readUsernameToken(usernameToken);
    const bst = optionalChild(security, Ns.WssSecext, 'BinarySecurityToken');
    if (bst) return readHeaderToken(bst);
    return { kind: 'none' };
  } catch (err) {
    if (err instanceof SoapRequestError && err.reason !== 'invalid-security') {
      throw new SoapRequestError('invalid-security', err.message, { cause: err });
    }
    throw err;
  }
}

function readUsernameToken(token: XmlElement): WsSecurityCredential {
  const username = textOf(requiredChild(token, Ns.WssSecext, 'Username')).trim();
  const passwordEl = requiredChild(token, Ns.WssSecext, 'Password');
  // The capture qualifies the attribute (wsse:Type); the WSS schema has it unqualified.
  const passwordType =
    attributeOf(passwordEl, '', 'Type') ?? attributeOf(passwordEl, Ns.WssSecext, 'Type');
  return { kind: 'username', username, password: textOf(passwordEl), passwordType };
}

function readHeaderToken(el: XmlElement): WsSecurityCredential {
  const { valueType, base64 } = readBinaryToken(el);
  if (!base64 || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(base64)) {
    throw new SoapRequestError('invalid-security', 'BinarySecurityToken is not base64');
  }
  const bytes = Buffer.from(base64.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  let token: string;
  try {
    token = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new SoapRequestError('invalid-security', 'BinarySecurityToken is not UTF-8 text');
  }
  return { kind: 'binary-token', valueType, token };
}
