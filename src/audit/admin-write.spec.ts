import type { AdminWrite } from './admin-write';
import { pathParams, requestSummary, writeFacts } from './admin-write';

const ID = '6650f1c2a1b2c3d4e5f60718';
const ORG = '6650f1c2a1b2c3d4e5f60701';

function write(patch: Partial<AdminWrite>): AdminWrite {
  return {
    user: { subject: 'u', organizations: ['*'], permissions: ['*'] },
    method: 'POST',
    route: '/v1/organizations/:organizationId/mdm/windows/enterprise',
    params: { organizationId: 'contoso' },
    requestBody: {},
    status: 200,
    responseBody: null,
    requestId: null,
    at: new Date(0),
    ...patch,
  };
}

describe('requestSummary', () => {
  it('counts the allow-listed arrays and reads nothing else', () => {
    expect(
      requestSummary({
        commands: [{ config: { value: 'secret' } }, {}],
        cmdIds: ['1'],
        userEmails: ['a@b.c', 'd@e.f', 'g@h.i'],
        secret: 'S3CR3T',
        domains: ['x.com'],
      }),
    ).toEqual({ commandCount: 2, cmdIdCount: 1, invitationCount: 3 });
  });

  it('ignores bodies that are not objects and fields that are not arrays', () => {
    expect(requestSummary([1, 2])).toEqual({});
    expect(requestSummary('commands')).toEqual({});
    expect(requestSummary({ commands: 'all' })).toEqual({});
  });
});

describe('writeFacts', () => {
  it('takes the entity and organization ids of a success, lower-cased', () => {
    const facts = writeFacts(
      write({
        responseBody: { status: true, data: { id: ID.toUpperCase(), organizationId: ORG } },
      }),
    );
    expect(facts).toMatchObject({
      outcome: 'success',
      errorCode: null,
      entityId: ID,
      responseOrganizationId: ORG,
    });
  });

  it('files a created organization under itself', () => {
    const facts = writeFacts(
      write({
        route: '/v1/organizations',
        params: {},
        responseBody: { status: true, data: { id: ID } },
      }),
    );
    expect(facts.responseOrganizationId).toBe(ID);
  });

  it('takes no id that is not a 24-hex id (a secret in `id` stays out)', () => {
    const facts = writeFacts(
      write({
        responseBody: {
          status: true,
          data: { id: 'K7QM-2XPA-9D4F', secret: 'x', winDeviceId: 'ABC' },
        },
      }),
    );
    expect(facts).toMatchObject({ entityId: null, responseIds: [] });
  });

  it('takes the error code of a failure, and no ids from it', () => {
    const facts = writeFacts(
      write({
        status: 403,
        responseBody: { status: false, error: { code: 4003, message: 'x' }, data: { id: ID } },
      }),
    );
    expect(facts).toMatchObject({ outcome: 'failure', errorCode: 4003, entityId: null });
  });

  it('records a failure whose body could not be read without a code', () => {
    expect(writeFacts(write({ status: 500, responseBody: null }))).toMatchObject({
      outcome: 'failure',
      errorCode: null,
    });
  });
});

describe('pathParams', () => {
  it('keeps string params, bounded', () => {
    expect(pathParams({ a: 'x'.repeat(300), b: ['y'], c: 'z' })).toEqual({
      a: 'x'.repeat(256),
      c: 'z',
    });
  });
});
