import { InternalServerError, InvocationDoesNotExist, ThrottlingException } from '@aws-sdk/client-ssm';
import { classifyError } from '../../../cli/aws/error-kind';

const named = (name: string, extra: object = {}) => Object.assign(new Error('some text that is never read'), { name, ...extra });

describe('classifyError', () => {
  it('expired or missing credentials, also when wrapped as a store error\'s cause', () => {
    expect(classifyError(named('ExpiredTokenException', { $metadata: { httpStatusCode: 400 } }))).toEqual({ kind: 'credentials', code: 'ExpiredTokenException' });
    expect(classifyError(named('CredentialsProviderError')).kind).toBe('credentials');
    const wrapped = Object.assign(new Error('s3://b: cannot list runs/x/: denied'), { code: 'STORE_DENIED', cause: named('ExpiredToken', { $metadata: { httpStatusCode: 400 } }) });
    expect(classifyError(wrapped)).toEqual({ kind: 'credentials', code: 'ExpiredToken' });
    expect(classifyError(named('AccessDeniedException', { $metadata: { httpStatusCode: 400 } })).kind).toBe('denied');
  });

  it('transient: 5xx, throttling, network codes, a body cut mid-way', () => {
    expect(classifyError(new InternalServerError({ $metadata: { httpStatusCode: 500 }, message: 'x' }))).toEqual({ kind: 'transient', code: 'InternalServerError (HTTP 500)' });
    expect(classifyError(named('Whatever', { $metadata: { httpStatusCode: 503 } }))).toEqual({ kind: 'transient', code: 'Whatever (HTTP 503)' });
    expect(classifyError(new ThrottlingException({ $metadata: {}, message: 'Rate exceeded', Message: 'Rate exceeded' } as ConstructorParameters<typeof ThrottlingException>[0])).kind).toBe('transient');
    const aborted = Object.assign(new Error('s3://b: cannot read k: aborted'), { code: 'STORE_FAILED', cause: Object.assign(new Error('aborted'), { code: 'ECONNRESET' }) });
    expect(classifyError(aborted)).toEqual({ kind: 'transient', code: 'ECONNRESET' });
  });

  it('anything else is "other", never guessed from the message', () => {
    expect(classifyError(new InvocationDoesNotExist({ $metadata: { httpStatusCode: 400 }, message: 'Internal error, throttled, expired token' })).kind).toBe('other');
    expect(classifyError(new TypeError('x is undefined')).kind).toBe('other');
    expect(classifyError(new Error('ECONNRESET ExpiredToken 503')).kind).toBe('other');
  });
});
