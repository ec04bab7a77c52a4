/** Injection token of the AiWebModule options. */
export const AI_WEB_OPTIONS = Symbol('AI_WEB_OPTIONS');
