export * from './ca';
export * from './csr';
export * from './issue';
export * from './key-vault';
export * from './pem';
export * from './verify';
export * from './pkcs7';
