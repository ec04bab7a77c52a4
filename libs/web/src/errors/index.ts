export { AiExceptionFilter } from './ai-exception.filter';
export { ErrorResponseDto, FieldErrorDto } from './error-response.dto';
export { validationExceptionFactory } from './validation-exception.factory';
