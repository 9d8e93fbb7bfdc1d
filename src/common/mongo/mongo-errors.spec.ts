import { MongoServerError } from 'mongodb';
import { isDuplicateKey, onlyDuplicateKeys } from './mongo-errors';

const duplicate = () =>
  new MongoServerError({ code: 11000, errmsg: 'E11000 duplicate key error collection: t.x' });
const otherServerError = () =>
  new MongoServerError({ code: 121, errmsg: 'Document failed validation' });

/** The shape of the driver's MongoBulkWriteError: each WriteError exposes its `code`. */
function bulkError(codes: number[]) {
  return Object.assign(new Error('write errors'), {
    code: codes[0],
    writeErrors: codes.map((code, index) => ({ index, code, errmsg: `E${code}` })),
  });
}

describe('isDuplicateKey', () => {
  it('is true for E11000 only', () => {
    expect(isDuplicateKey(duplicate())).toBe(true);
    expect(isDuplicateKey(otherServerError())).toBe(false);
    expect(isDuplicateKey(new Error('E11000 in the text is not a code'))).toBe(false);
  });

  it('is false for values that are not errors', () => {
    expect(isDuplicateKey(undefined)).toBe(false);
    expect(isDuplicateKey(null)).toBe(false);
    expect(isDuplicateKey('11000')).toBe(false);
    expect(isDuplicateKey({ code: '11000' })).toBe(false);
  });
});

describe('onlyDuplicateKeys', () => {
  it('accepts a bulk failure made only of duplicates', () => {
    expect(onlyDuplicateKeys(bulkError([11000, 11000]))).toBe(true);
  });

  it('refuses a bulk failure with any other error among the duplicates', () => {
    expect(onlyDuplicateKeys(bulkError([11000, 121]))).toBe(false);
    expect(onlyDuplicateKeys(bulkError([121, 11000]))).toBe(false);
  });

  it('reads the code FerretDB nests under `err`', () => {
    expect(onlyDuplicateKeys({ writeErrors: [{ err: { code: 11000 } }] })).toBe(true);
    expect(onlyDuplicateKeys({ writeErrors: [{ err: { code: 2 } }] })).toBe(false);
  });

  it('refuses a bulk failure that lists no write error (something else failed)', () => {
    expect(onlyDuplicateKeys({ writeErrors: [] })).toBe(false);
  });

  it('falls back to the error itself when it is not a bulk failure', () => {
    expect(onlyDuplicateKeys(duplicate())).toBe(true);
    expect(onlyDuplicateKeys(otherServerError())).toBe(false);
  });
});
