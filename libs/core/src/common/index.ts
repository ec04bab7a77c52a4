export { assertStorableText, findUnstorableText, isStorableText, unstorableTextMessage, type UnstorableText, type UnstorableTextMessageOptions } from './storable-text';
