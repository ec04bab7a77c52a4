import { hasRequestBody, isJsonContentType } from './json-content-type';

describe('isJsonContentType', () => {
  it('accepts application/json in any case and with parameters', () => {
    for (const header of ['application/json', 'Application/JSON', 'application/json; charset=utf-8', ' application/json ;charset=UTF-8', 'application/json;;']) {
      expect(isJsonContentType(header)).toBe(true);
    }
  });

  it('refuses every other type, a missing header and repeated headers', () => {
    for (const header of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/jsonp', 'application/merge-patch+json', 'json', '', undefined, ['application/json']]) {
      expect(isJsonContentType(header)).toBe(false);
    }
  });
});

describe('hasRequestBody', () => {
  it('sees a body in a positive Content-Length or any Transfer-Encoding', () => {
    expect(hasRequestBody({ 'content-length': '2' })).toBe(true);
    expect(hasRequestBody({ 'transfer-encoding': 'chunked' })).toBe(true);
  });

  it('sees none without both, with Content-Length 0 or with a malformed length', () => {
    expect(hasRequestBody({})).toBe(false);
    expect(hasRequestBody({ 'content-length': '0' })).toBe(false);
    expect(hasRequestBody({ 'content-length': 'abc' })).toBe(false);
  });
});
