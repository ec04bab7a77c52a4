export { IS_STORABLE_TEXT, IsStorableText } from './is-storable-text.decorator';
export { hasRequestBody, isJsonContentType } from './json-content-type';
export { RequireJsonBodyGuard } from './require-json-body.guard';
