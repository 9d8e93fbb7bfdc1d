/** Exact URIs of MS-MDE2 / MS-XCEP / MS-WSTEP traffic (enrollment.md Appendix A). */
export const Ns = {
  Soap12: 'http://www.w3.org/2003/05/soap-envelope',
  Soap11: 'http://schemas.xmlsoap.org/soap/envelope/',
  Addressing: 'http://www.w3.org/2005/08/addressing',
  WssUtility: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd',
  WssSecext: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd',
  WsTrust: 'http://docs.oasis-open.org/ws-sx/ws-trust/200512',
  AdditionalContext: 'http://schemas.xmlsoap.org/ws/2006/12/authorization',
  Discovery: 'http://schemas.microsoft.com/windows/management/2012/01/enrollment',
  /** Microsoft's doc samples add a trailing slash that real traffic lacks (enrollment.md §3.2). */
  DiscoveryDocVariant: 'http://schemas.microsoft.com/windows/management/2012/01/enrollment/',
  EnrollmentPolicy: 'http://schemas.microsoft.com/windows/pki/2009/01/enrollmentpolicy',
  Enrollment: 'http://schemas.microsoft.com/windows/pki/2009/01/enrollment',
  Diagnostics: 'http://schemas.microsoft.com/2004/09/ServiceModel/Diagnostics',
  /** WCF dispatcher, the binding Mattrax used for the `a:` fault subcodes (enrollment.md §11.1). */
  WcfDispatcher:
    'http://schemas.microsoft.com/net/2005/12/windowscommunicationfoundation/dispatcher',
  Xsi: 'http://www.w3.org/2001/XMLSchema-instance',
  Xsd: 'http://www.w3.org/2001/XMLSchema',
} as const;

export const Action = {
  Discover:
    'http://schemas.microsoft.com/windows/management/2012/01/enrollment/IDiscoveryService/Discover',
  DiscoverResponse:
    'http://schemas.microsoft.com/windows/management/2012/01/enrollment/IDiscoveryService/DiscoverResponse',
  GetPolicies:
    'http://schemas.microsoft.com/windows/pki/2009/01/enrollmentpolicy/IPolicy/GetPolicies',
  GetPoliciesResponse:
    'http://schemas.microsoft.com/windows/pki/2009/01/enrollmentpolicy/IPolicy/GetPoliciesResponse',
  RequestSecurityToken: 'http://schemas.microsoft.com/windows/pki/2009/01/enrollment/RST/wstep',
  RequestSecurityTokenResponse:
    'http://schemas.microsoft.com/windows/pki/2009/01/enrollment/RSTRC/wstep',
} as const;

export const TokenType = {
  DeviceEnrollment:
    'http://schemas.microsoft.com/5.0.0.0/ConfigurationManager/Enrollment/DeviceEnrollmentToken',
} as const;

export const RequestType = {
  Issue: 'http://docs.oasis-open.org/ws-sx/ws-trust/200512/Issue',
  Renew: 'http://docs.oasis-open.org/ws-sx/ws-trust/200512/Renew',
} as const;

export const BstValueType = {
  Pkcs10: 'http://schemas.microsoft.com/windows/pki/2009/01/enrollment#PKCS10',
  Pkcs7: 'http://schemas.microsoft.com/windows/pki/2009/01/enrollment#PKCS7',
  UserToken:
    'http://schemas.microsoft.com/5.0.0.0/ConfigurationManager/Enrollment/DeviceEnrollmentUserToken',
  EntraJwt: 'urn:ietf:params:oauth:token-type:jwt',
  ProvisionDoc:
    'http://schemas.microsoft.com/5.0.0.0/ConfigurationManager/Enrollment/DeviceEnrollmentProvisionDoc',
} as const;

export const BST_BASE64_ENCODING =
  'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd#base64binary';

export const PASSWORD_TEXT_TYPE =
  'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText';

export const AuthPolicy = {
  OnPremise: 'OnPremise',
  Federated: 'Federated',
  Certificate: 'Certificate',
} as const;
export type AuthPolicy = (typeof AuthPolicy)[keyof typeof AuthPolicy];

/** Every enrollment response: one piece, explicit Content-Length, never chunked (§1). */
